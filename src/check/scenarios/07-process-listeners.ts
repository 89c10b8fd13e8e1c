/**
 * Behaviour 7: listeners shared by forked workers, and epoll DEL + ADD of a
 * listener.
 *
 *   bun 07-process-listeners.ts BACKEND process children
 *     3 forked native echo children share one listener. Connections come in
 *     bursts of 3 concurrent 64 KiB echoes (the kernel wakes every child's
 *     epoll on each connection, and the first-registered one tends to win
 *     when they arrive one by one); each is verified. Every child must have
 *     accepted some: the per-worker `accepts` counters give the split. Then
 *     the parent, whose own listening was stopped when the children started
 *     theirs, adds the listener to its epoll set (starts it: one listener
 *     start), deletes it, keeps the children serving, adds it again (no new
 *     start: DEL did nothing), stops the children, and accepts on it itself.
 *
 *   bun 07-process-listeners.ts BACKEND process owner-add
 *     2 children start listening, which asks the parent (the owner, not
 *     accepting) to stop listening. Before the parent polls again, it adds
 *     the listener to its own epoll set: it is now active on it, so the
 *     stop no longer applies (VLS checks "owner not active" when the child
 *     starts; VPP stops the owner at once, and the owner's ADD starts it
 *     again). The parent polls, the children go, and a connection must
 *     show up as an event in the parent's set.
 *
 *   bun 07-process-listeners.ts BACKEND MODE del-add
 *     One process, one thread: DEL of a LISTEN session from an epoll set
 *     then ADD keeps accepting (the event comes back, accept works).
 */
import { echoVerified, scenario, stage, raw, check, Errno, counters, workerCounters, nowMs, loopback, acceptWithin, connectNonBlocking, alive, acceptAndCloseUntil, type Counters } from "./lib.ts";
import { initApp } from "./app.ts";
import { forkEchoWorkers } from "../../native/ffi.ts";
import { listenTcpAnyPort, EPOLLIN, EPOLL_CTL_ADD, EPOLL_CTL_DEL, O_NONBLOCK, PROTO_TCP } from "../../native/vls.ts";
import { connect } from "node:net";

const CHILDREN = 3;
const BURST = 3;
const FIRST_ROUND = 60;
const MAX_CONNECTIONS = 120;
const PAYLOAD = 64 * 1024;
const LISTENER_TAG = 1;


/** Connected (handshake done by the kernel) but never written: resolves when connected. */
function openOnly(port: number): Promise<import("node:net").Socket> {
  return new Promise((resolve, reject) => {
    const s = connect({ host: "127.0.0.1", port }, () => resolve(s));
    s.on("error", reject);
  });
}


async function children(backend: any) {
  await initApp(backend, "process");
  const { handle: l, port } = listenTcpAnyPort(loopback(0), backend);
  const pep = check("vlsb_epoll_create", raw.vlsb_epoll_create());
  const evs = new Uint32Array(new ArrayBuffer(8 * 16));
  // The parent polls: stop requests for its listener and SIGCHLD cleanups are handled there.
  let timer: ReturnType<typeof setInterval> | null = setInterval(() => raw.vlsb_epoll_wait(pep, evs, 16, 0), 5);
  const parentWrk = raw.vlsb_worker_index();
  stage(`fork ${CHILDREN} echo children`);
  const pids = forkEchoWorkers(l, CHILDREN);
  const childCounters = (c: Counters) => c.workers.filter((w) => w.index !== parentWrk);
  const t0 = nowMs();
  while (childCounters(counters()).reduce((a, w) => a + w.listenerStarts, 0) < CHILDREN) {
    if (nowMs() - t0 > 5000) throw new Error("children did not start their listeners within 5 s");
    await Bun.sleep(5);
  }
  stage("connections in bursts");
  let made = 0, exact = 0;
  const splitAt: number[][] = [];
  while (made < MAX_CONNECTIONS) {
    const oks = await Promise.all(Array.from({ length: BURST }, () => echoVerified(port, PAYLOAD)));
    made += BURST;
    exact += oks.filter(Boolean).length;
    await Bun.sleep(5);
    const accepts = childCounters(counters()).map((w) => w.accepts);
    if (made === FIRST_ROUND) splitAt.push(accepts);
    if (made >= FIRST_ROUND && accepts.every((a) => a > 0)) break;
  }
  const afterBursts = counters();
  const distribution = childCounters(afterBursts).map((w) => ({ index: w.index, pid: w.pid, accepts: w.accepts, listenerStarts: w.listenerStarts }));

  stage("parent: epoll ADD, DEL, ADD of the listener");
  await Bun.sleep(20); // the parent has polled since the children stopped its listening
  const parentStartsBefore = workerCounters(counters(), parentWrk).listenerStarts;
  const add1 = raw.vlsb_epoll_ctl(pep, EPOLL_CTL_ADD, l, EPOLLIN, LISTENER_TAG);
  const startsAfterAdd1 = workerCounters(counters(), parentWrk).listenerStarts;
  const del = raw.vlsb_epoll_ctl(pep, EPOLL_CTL_DEL, l, 0, 0);
  // Still served by the children after the parent's DEL (the parent does not accept here: not in its set).
  clearInterval(timer);
  timer = null;
  const accBeforeDelPhase = childCounters(counters()).reduce((a, w) => a + w.accepts, 0);
  let afterDelExact = 0;
  for (let i = 0; i < 4; i++) {
    afterDelExact += (await Promise.all(Array.from({ length: BURST }, () => echoVerified(port, 4096)))).filter(Boolean).length;
    raw.vlsb_epoll_wait(pep, evs, 16, 0);
  }
  const afterDelChildAccepts = childCounters(counters()).reduce((a, w) => a + w.accepts, 0) - accBeforeDelPhase;
  const add2 = raw.vlsb_epoll_ctl(pep, EPOLL_CTL_ADD, l, EPOLLIN, LISTENER_TAG);
  const startsAfterAdd2 = workerCounters(counters(), parentWrk).listenerStarts;

  stage("stop the children; the parent accepts alone");
  for (const pid of pids) process.kill(pid, "SIGTERM");
  const t1 = nowMs();
  while (pids.some(alive) || counters().childCleanups < CHILDREN) {
    if (nowMs() - t1 > 5000) throw new Error(`children not cleaned up within 5 s (cleanups ${counters().childCleanups})`);
    // Ignore listener events meanwhile: nothing connects now.
    raw.vlsb_epoll_wait(pep, evs, 16, 0);
    await Bun.sleep(5);
  }
  const socks = await Promise.all(Array.from({ length: 3 }, () => openOnly(port)));
  const { events: parentEvents, accepted: parentAccepted } = await acceptAndCloseUntil(pep, evs, l, LISTENER_TAG, (n) => n >= socks.length, 5000);
  for (const s of socks) s.destroy();
  const end = counters();
  raw.vlsb_close(pep);
  raw.vlsb_close(l);
  return {
    connections: made, exact, distribution, splitAtFirstRound: splitAt[0] ?? null, forks: afterBursts.forks,
    parent: { wrk: parentWrk, startsBefore: parentStartsBefore, add1, startsAfterAdd1, del, add2, startsAfterAdd2, events: parentEvents, accepted: parentAccepted, acceptsCounter: workerCounters(end, parentWrk).accepts },
    afterDel: { exact: afterDelExact, of: 4 * BURST, childAccepts: afterDelChildAccepts },
    childCleanups: end.childCleanups,
  };
}

async function ownerAdd(backend: any) {
  await initApp(backend, "process");
  const { handle: l, port } = listenTcpAnyPort(loopback(0), backend);
  const pep = check("vlsb_epoll_create", raw.vlsb_epoll_create());
  const evs = new Uint32Array(new ArrayBuffer(8 * 16));
  const parentWrk = raw.vlsb_worker_index();
  stage("fork 2 echo children (the parent does not poll)");
  const pids = forkEchoWorkers(l, 2);
  const t0 = nowMs();
  while (counters().workers.filter((w) => w.index !== parentWrk).reduce((a, w) => a + w.listenerStarts, 0) < 2) {
    if (nowMs() - t0 > 5000) throw new Error("children did not start their listeners within 5 s");
    Bun.sleepSync(5);
  }
  stage("parent: ADD the listener, then poll");
  const add = raw.vlsb_epoll_ctl(pep, EPOLL_CTL_ADD, l, EPOLLIN, LISTENER_TAG);
  raw.vlsb_epoll_wait(pep, evs, 16, 0);
  for (const pid of pids) process.kill(pid, "SIGTERM");
  const t1 = nowMs();
  while (pids.some(alive) || counters().childCleanups < 2) {
    if (nowMs() - t1 > 5000) throw new Error("children not cleaned up within 5 s");
    raw.vlsb_epoll_wait(pep, evs, 16, 0);
    await Bun.sleep(5);
  }
  stage("a connection to the parent alone");
  const sock = await openOnly(port);
  let events = 0;
  const t2 = nowMs();
  while (!events && nowMs() - t2 < 2000) {
    const n = raw.vlsb_epoll_wait(pep, evs, 16, 0);
    for (let k = 0; k < n; k++) if (evs[2 * k + 1] === LISTENER_TAG) events++;
    await Bun.sleep(2);
  }
  const accept = raw.vlsb_accept(l, null, O_NONBLOCK); // the connection is there either way
  sock.destroy();
  return { add, events, accepted: accept >= 0, childCleanups: counters().childCleanups };
}

/** One process, one thread: DEL then ADD of a LISTEN session keeps accepting. */
async function delAdd(backend: any, mode: any) {
  await initApp(backend, mode, "", { selfConnect: true });
  const { handle: l, port } = listenTcpAnyPort(loopback(0), backend);
  const ep = check("vlsb_epoll_create", raw.vlsb_epoll_create());
  const evs = new Uint32Array(new ArrayBuffer(8 * 16));
  // Non-blocking clients: a same-app blocking connect hangs on VPP; the
  // listener sees the connection either way.
  const client = () => {
    const c = check("vlsb_create", raw.vlsb_create(PROTO_TCP, 1));
    connectNonBlocking(c, port);
    return c;
  };
  const waitListener = (ms: number) => {
    const n = raw.vlsb_epoll_wait(ep, evs, 16, ms);
    return n > 0 && evs[1] === LISTENER_TAG ? evs[0] : n;
  };
  const add1 = raw.vlsb_epoll_ctl(ep, EPOLL_CTL_ADD, l, EPOLLIN, LISTENER_TAG);
  const c1 = client();
  const ev1 = waitListener(2000);
  const a1 = raw.vlsb_accept(l, null, O_NONBLOCK);
  const del = raw.vlsb_epoll_ctl(ep, EPOLL_CTL_DEL, l, 0, 0);
  const c2 = client();
  const whileDeleted = raw.vlsb_epoll_wait(ep, evs, 16, 200); // not in the set: no event
  const add2 = raw.vlsb_epoll_ctl(ep, EPOLL_CTL_ADD, l, EPOLLIN, LISTENER_TAG);
  const ev2 = waitListener(2000); // the pending connection shows again
  const a2 = raw.vlsb_accept(l, null, O_NONBLOCK);
  const c3 = client();
  const ev3 = waitListener(2000);
  const a3 = acceptWithin(l, 2000);
  const afterEmpty = raw.vlsb_accept(l, null, O_NONBLOCK);
  for (const h of [c1, c2, c3, a1, a2, a3, ep, l]) if (h >= 0) raw.vlsb_close(h);
  return { add1, ev1, accepted1: a1 >= 0, del, whileDeleted, add2, ev2, accepted2: a2 >= 0, ev3, accepted3: a3 >= 0, afterEmpty, EAGAIN: -Errno.EAGAIN };
}

scenario(async ({ backend, mode, extra }) => {
  const which = extra[0] ?? "children";
  if (which === "children") {
    if (mode !== "process") throw new Error("the children case needs process mode");
    return children(backend);
  }
  if (which === "owner-add") {
    if (mode !== "process") throw new Error("the owner-add case needs process mode");
    return ownerAdd(backend);
  }
  if (which === "del-add") return delAdd(backend, mode);
  throw new Error(`unknown case ${which}`);
});
