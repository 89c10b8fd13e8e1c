/**
 * Behaviour 7 on VPP: a listener shared by forked children, seen through
 * what VPP lets vlsbench observe (its own per-VCL-worker accept counts, the
 * return codes, verified echoes from another VCL app). The embedded model
 * shares one kernel listen socket, so whoever accepts gets the connection;
 * VPP instead hands each new connection to one of the app's listening
 * workers, so a worker that listens without accepting strands its share.
 *
 *   bun 07-process-listeners-vpp.ts vpp process
 *     1. 3 forked native echo children share the listener; rounds of 30
 *        verified 64 KiB echoes until every child has accepted some.
 *     2. The parent ADDs the listener to its epoll set (it listens again),
 *        DELs it (it keeps listening: VLS does not stop a listener on DEL),
 *        and does not poll: 30 more connections, a short echo timeout. Those
 *        VPP gave the parent are not served (timeouts); the children serve
 *        the rest. Polling again, the parent finds the stranded connections
 *        in its accept queue.
 *     3. The parent ADDs the listener again, SIGTERMs the children (each
 *        leaves through VPP's exit path: vlsbench's vlsb_app_fini in a
 *        forked child), and serves alone: verified echoes. Then it closes
 *        the epoll set and the listener, both shared at the fork: 0.
 */
import { scenario, stage, raw, Errno, counters, nowMs, alive, type Counters } from "./lib.ts";
import { processModeParent, clientEcho } from "./app.ts";
import { forkEchoWorkers } from "../../native/ffi.ts";
import { EPOLLIN, EPOLL_CTL_ADD, EPOLL_CTL_DEL, O_NONBLOCK, type BackendName } from "../../native/vls.ts";

const CHILDREN = 3;
const LISTENER_TAG = 0xfffffff0;
const E_AGAIN = -Errno.EAGAIN; // as the ABI returns it


/**
 * A minimal echo in the parent's JS thread: accepts from the listener,
 * echoes what it reads (a short write keeps the rest, flushed every poll).
 * Returns a stop function that resolves to what it did.
 */
function parentEcho(ep: number, l: number) {
  const evs = new Uint32Array(new ArrayBuffer(8 * 64));
  const buf = new Uint8Array(new ArrayBuffer(65536));
  const rest = new Map<number, Uint8Array>();
  let accepted = 0, listenerEvents = 0, bytes = 0, running = true;
  const close = (h: number) => {
    raw.vlsb_close(h);
    rest.delete(h);
  };
  /** Writes what h still owes its peer; true when nothing is left. */
  const flush = (h: number): boolean => {
    const p = rest.get(h);
    if (!p) return true;
    const w = raw.vlsb_write(h, p, p.length);
    if (w === E_AGAIN) return false;
    if (w < 0) return close(h), false;
    if (w < p.length) return rest.set(h, p.slice(w)), false;
    rest.delete(h);
    return true;
  };
  const serve = (h: number) => {
    if (!flush(h)) return;
    for (;;) {
      const r = raw.vlsb_read(h, buf, buf.length);
      if (r === E_AGAIN) return;
      if (r <= 0) return close(h);
      bytes += r;
      let w = raw.vlsb_write(h, buf, r);
      if (w === E_AGAIN) w = 0;
      if (w < 0) return close(h);
      if (w < r) return void rest.set(h, buf.slice(w, r));
    }
  };
  const pump = async () => {
    while (running) {
      const n = raw.vlsb_epoll_wait(ep, evs, 64, 0);
      for (let k = 0; k < n; k++) {
        const tag = evs[2 * k + 1];
        if (tag === LISTENER_TAG) {
          listenerEvents++;
          for (;;) {
            const h = raw.vlsb_accept(l, null, O_NONBLOCK);
            if (h < 0) break;
            accepted++;
            raw.vlsb_epoll_ctl(ep, EPOLL_CTL_ADD, h, EPOLLIN, h);
          }
          continue;
        }
        serve(tag);
      }
      for (const h of [...rest.keys()]) flush(h);
      await Bun.sleep(n > 0 ? 0 : 1);
    }
  };
  const done = pump();
  return async () => {
    running = false;
    await done;
    return { accepted, listenerEvents, bytes };
  };
}

scenario(async ({ backend, mode }) => {
  if (backend !== "vpp" || mode !== "process") throw new Error("this is the vpp process-mode variant");
  // A real SIGCHLD handler before the first fork (Bun installs one for
  // process.on). VPP 24.06's VLS, finding only the default disposition,
  // records its own handler as the one to chain to from the second fork on,
  // and the parent then dies at the first SIGCHLD (a VCL client exiting);
  // conformance 01 pins that. With a handler here, VLS records it instead,
  // on every VPP version.
  process.on("SIGCHLD", () => {});
  const { l, port, pep, evs } = await processModeParent(backend as BackendName);
  const parentWrk = raw.vlsb_worker_index();
  stage(`fork ${CHILDREN} echo children`);
  const pids = forkEchoWorkers(l, CHILDREN);
  const childAccepts = (c: Counters) => c.workers.filter((w) => w.index !== parentWrk && pids.includes(w.pid)).map((w) => w.accepts);
  const parentAccepts = (c: Counters) => c.workers.find((w) => w.index === parentWrk)?.accepts ?? 0;

  stage("rounds of 30 verified echoes until every child accepted");
  const rounds: { ok: boolean; messages: number }[] = [];
  let split: number[] = [];
  for (let i = 0; i < 5; i++) {
    const r = await clientEcho(port, 30, 30, 64 * 1024);
    rounds.push({ ok: r.ok, messages: r.messages });
    split = childAccepts(counters());
    if (split.length === CHILDREN && split.every((a) => a > 0)) break;
  }

  stage("parent: ADD, DEL, and no polling");
  const add1 = raw.vlsb_epoll_ctl(pep, EPOLL_CTL_ADD, l, EPOLLIN, LISTENER_TAG);
  const del = raw.vlsb_epoll_ctl(pep, EPOLL_CTL_DEL, l, 0, 0);
  const before = counters();
  const stranded = await clientEcho(port, 30, 30, 4096, 30_000, 2);
  const mid = counters();
  const childAcceptsWhileParentIdle = childAccepts(mid).reduce((a, x) => a + x, 0) - childAccepts(before).reduce((a, x) => a + x, 0);
  // The stranded connections wait in the parent's accept queue.
  let strandedAccepted = 0;
  for (;;) {
    const h = raw.vlsb_accept(l, null, O_NONBLOCK);
    if (h < 0) break;
    strandedAccepted++;
    raw.vlsb_close(h);
  }

  stage("parent: ADD again; the children go; the parent serves alone");
  const add2 = raw.vlsb_epoll_ctl(pep, EPOLL_CTL_ADD, l, EPOLLIN, LISTENER_TAG);
  for (const pid of pids) process.kill(pid, "SIGTERM");
  const t0 = nowMs();
  while (pids.some(alive) && nowMs() - t0 < 5000) {
    raw.vlsb_epoll_wait(pep, evs, 16, 0);
    await Bun.sleep(5);
  }
  const childrenGone = !pids.some(alive);
  const stopEcho = parentEcho(pep, l);
  const alone = await clientEcho(port, 6, 12, 16 * 1024, 20_000, 5);
  const parent = await stopEcho();
  const end = counters();
  const closeEp = raw.vlsb_close(pep);
  const closeListener = raw.vlsb_close(l);
  return {
    forks: end.forks, rounds, split,
    add1, del, add2,
    stranded: { ok: stranded.ok, messages: stranded.messages, errors: stranded.errors, childAccepts: childAcceptsWhileParentIdle, parentAccepted: strandedAccepted },
    childrenGone, closeEp, closeListener,
    alone: { ok: alone.ok, messages: alone.messages, errors: alone.errors, firstError: alone.firstError, parent, parentAcceptsCounter: parentAccepts(end) },
  };
});
