/**
 * Behaviour 4 (thread mode): a connected session of worker O touched from
 * worker T. Every call that migrates (write, read, attr, shutdown, close,
 * accept on O's listener) gets -EBADFD after O answered the clone RPC (O
 * polls meanwhile, so nothing times out); bind and epoll_ctl naming it fail
 * without an RPC. No crash, no fd leaked by the refused clones, and the
 * session is untouched: O still reads the bytes that were pending on it,
 * and both directions work.
 *
 *   bun 04-foreign-connected.ts BACKEND MODE [no-close]
 * (no-close: the other worker leaves close out of its calls.)
 *
 * Case close-window (app option rpc_timeout_ms=300): the owner does not
 * poll but keeps reading its session (non-blocking) while the other worker
 * tries to close it; that close cannot migrate the session and fails after
 * the RPC timeout. Meanwhile the owner's reads must see its live session
 * (data or -EAGAIN), never -EBADFD, and it carries data afterwards.
 *
 *   bun 04-foreign-connected.ts BACKEND MODE close-window
 */
import { isMainThread } from "node:worker_threads";
import {
  scenario, workerMain, startWorker, stage, raw, check, Poller, spinUntil, connectedPair, transfer, randomPayload,
  equalBytes, counters, workerCounters, socketCount, loopback, encodeEndpoint, nowMs,
} from "./lib.ts";
import { listenTcpAnyPort, Attr, O_NONBLOCK, SHUT_WR, EPOLLIN, EPOLL_CTL_ADD, type BackendName } from "../../native/vls.ts";
import { initApp } from "./app.ts";

// ctl: [0] published, [1] toucher done, [2] client handle, [3] listener handle
interface Data {
  role: "owner" | "toucher" | "reading-owner" | "closer";
  backend: BackendName;
  ctl: SharedArrayBuffer;
  /** toucher: leave close out of its calls ("no-close"). */
  noClose?: boolean;
}

function owner(d: Data) {
  const ctl = new Int32Array(d.ctl);
  const wrk = check("vlsb_worker_register", raw.vlsb_worker_register());
  const poller = new Poller();
  const { handle: l, port } = listenTcpAnyPort(loopback(0), d.backend);
  const { c, s } = connectedPair(l, port);
  // Bytes pending on c while the other worker tries to read it.
  const hello = new Uint8Array(new ArrayBuffer(5));
  hello.set([104, 101, 108, 108, 111]);
  check("vlsb_write", raw.vlsb_write(s, hello, 5));
  Atomics.store(ctl, 2, c);
  Atomics.store(ctl, 3, l);
  Atomics.store(ctl, 0, 1);
  stage("poll while the other worker touches the session");
  poller.pollUntil(() => Atomics.load(ctl, 1) === 1, 30_000, "the toucher");
  stage("use the session");
  const buf = new Uint8Array(new ArrayBuffer(64));
  let pending = -11;
  for (let i = 0; i < 1000 && pending === -11; i++) pending = raw.vlsb_read(c, buf, 64);
  const pendingText = pending > 0 ? new TextDecoder().decode(buf.subarray(0, pending)) : String(pending);
  const up = randomPayload(64 * 1024);
  const down = randomPayload(64 * 1024);
  const upOk = equalBytes(transfer(c, s, up, 5000), up);
  const downOk = equalBytes(transfer(s, c, down, 5000), down);
  const flags = raw.vlsb_attr(c, Attr.GET_FLAGS, 0, null);
  const end = workerCounters(counters(), wrk);
  const closes = [c, s, l].map((h) => raw.vlsb_close(h));
  poller.close();
  return { wrk, pendingText, upOk, downOk, flags, closes, migrationsOk: end.migrationsOk, rpcsServed: end.rpcsServed };
}

function toucher(d: Data) {
  const ctl = new Int32Array(d.ctl);
  const wrk = check("vlsb_worker_register", raw.vlsb_worker_register());
  const ownEp = check("vlsb_epoll_create", raw.vlsb_epoll_create());
  spinUntil(() => Atomics.load(ctl, 0) === 1, 10_000, "the owner's session");
  const c = Atomics.load(ctl, 2);
  const l = Atomics.load(ctl, 3);
  const buf = new Uint8Array(new ArrayBuffer(64));
  stage("calls on the owner's connected session");
  const sockets0 = socketCount();
  const t0 = nowMs();
  const rv = {
    write: raw.vlsb_write(c, buf, 8),
    read: raw.vlsb_read(c, buf, 64),
    attr: raw.vlsb_attr(c, Attr.GET_FLAGS, 0, null),
    shutdown: raw.vlsb_shutdown(c, SHUT_WR),
    ...(d.noClose ? {} : { close: raw.vlsb_close(c) }),
    accept: raw.vlsb_accept(l, null, O_NONBLOCK),
    bind: raw.vlsb_bind(c, encodeEndpoint(loopback(0))),
    epollCtl: raw.vlsb_epoll_ctl(ownEp, EPOLL_CTL_ADD, c, EPOLLIN, 1),
  };
  const elapsedMs = Math.round(nowMs() - t0);
  // Also as a stage line: on VPP the owner's process may not live to print the result.
  stage(`toucher answers: ${JSON.stringify(rv)}`);
  const sockets1 = socketCount();
  const end = workerCounters(counters(), wrk);
  raw.vlsb_close(ownEp);
  Atomics.store(ctl, 1, 1);
  return {
    wrk, rv, elapsedMs, socketsBefore: sockets0, socketsAfter: sockets1,
    migrationsOk: end.migrationsOk, migrationsFailed: end.migrationsFailed, migrationsTimedOut: end.migrationsTimedOut, rpcsSent: end.rpcsSent,
  };
}

/** close-window: the owner reads in a loop (no polling) while the closer's close is pending. */
function readingOwner(d: Data) {
  const ctl = new Int32Array(d.ctl);
  const wrk = check("vlsb_worker_register", raw.vlsb_worker_register());
  const { handle: l, port } = listenTcpAnyPort(loopback(0), d.backend);
  const { c, s } = connectedPair(l, port);
  Atomics.store(ctl, 2, c);
  Atomics.store(ctl, 0, 1);
  stage("read the session in a loop while the other worker's close is pending");
  const buf = new Uint8Array(new ArrayBuffer(64));
  const reads: Record<string, number> = {};
  const end = nowMs() + 10_000;
  while (Atomics.load(ctl, 1) === 0 && nowMs() < end) {
    const r = raw.vlsb_read(c, buf, 64);
    const k = r > 0 ? "data" : String(r);
    reads[k] = (reads[k] ?? 0) + 1;
  }
  const p = randomPayload(16 * 1024);
  const after = equalBytes(transfer(s, c, p, 5000), p);
  const closes = [c, s, l].map((h) => raw.vlsb_close(h));
  return { wrk, reads, after, closes };
}

function closer(d: Data) {
  const ctl = new Int32Array(d.ctl);
  check("vlsb_worker_register", raw.vlsb_worker_register());
  spinUntil(() => Atomics.load(ctl, 0) === 1, 10_000, "the owner's session");
  Bun.sleepSync(20); // the owner is in its read loop
  stage("close the owner's session");
  const t0 = nowMs();
  const close = raw.vlsb_close(Atomics.load(ctl, 2));
  const ms = Math.round(nowMs() - t0);
  stage(`closer: close ${close} in ${ms} ms`);
  Bun.sleepSync(20);
  Atomics.store(ctl, 1, 1);
  return { close, ms };
}

const roles = { owner, toucher, "reading-owner": readingOwner, closer };
if (!isMainThread) workerMain((d: Data) => roles[d.role](d));
else
  scenario(async ({ backend, mode, extra }) => {
    if (extra[0] === "close-window") {
      await initApp(backend, mode, "rpc_timeout_ms=300", { selfConnect: true });
      const ctl = new SharedArrayBuffer(16);
      const o = startWorker<any>(import.meta.url, { role: "reading-owner", backend, ctl } satisfies Data);
      const t = startWorker<any>(import.meta.url, { role: "closer", backend, ctl } satisfies Data);
      const [or, tr] = await Promise.all([o.result, t.result]);
      return { owner: or, closer: tr };
    }
    await initApp(backend, mode, "", { selfConnect: true });
    const ctl = new SharedArrayBuffer(16);
    const o = startWorker<any>(import.meta.url, { role: "owner", backend, ctl } satisfies Data);
    const t = startWorker<any>(import.meta.url, { role: "toucher", backend, ctl, noClose: extra[0] === "no-close" } satisfies Data);
    stage("wait for both workers");
    const [or, tr] = await Promise.all([o.result, t.result]);
    return { owner: or, toucher: tr };
  });
