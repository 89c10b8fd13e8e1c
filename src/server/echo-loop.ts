/**
 * The JS echo loop a server worker runs: epoll_wait in batches, accept
 * pending connections, read and write back, all through the VLS ABI.
 *
 * Per echoed message: one read and one write FFI call (plus one epoll_wait
 * per batch of events); every crossing is counted in ffiCalls. A short
 * write keeps only the unsent rest and stops reading that connection until
 * it drains (EPOLLOUT), so memory per connection is bounded by one read
 * buffer.
 *
 * Epoll data is the session handle itself, so a session accepted by one
 * worker and added to another worker's epoll set (single mode) needs no
 * hand-over message: the owner of the set adopts it on its first event.
 *
 * One session, one server at a time: on VPP's single-worker VLS the event
 * of a session goes to whichever thread drains the shared message queue,
 * whatever set the session is in, so two workers can get events of the
 * same session. A worker serves a session only while it holds the
 * session's claim (a compare-and-swap on shared memory, no FFI call);
 * a worker that gets an event of a session another holds marks the claim
 * MISSED, and the holder serves the session once more before letting go.
 * A claim is kept while an unsent rest is pending, so the bytes of a
 * session always leave in order from the worker that holds them.
 */
import { raw } from "../native/ffi.ts";
import { Errno } from "../native/errno.ts";
import { Attr, EPOLLIN, EPOLLOUT, EPOLLRDHUP, EPOLLERR, EPOLLHUP, EPOLLET, EPOLL_CTL_ADD, EPOLL_CTL_MOD, O_NONBLOCK } from "../native/vls.ts";
import type { EchoCounters } from "./protocol.ts";

/** Epoll data marking the listener. */
export const LISTENER_TAG = 0xffffffff;
const MAX_EVENTS = 256;
const BUF_SIZE = 64 * 1024;
const WAIT_MS = 50;
/** How often a worker looks for sessions with unread data nobody serves (VPP single mode, several workers). */
const SWEEP_MS = 20;
const SLOT_MASK = 0xffffff;
/** Claim slots: one per session slot (handle & SLOT_MASK) below this. */
export const CLAIM_SLOTS = 65536;
/** Set on a claim by a worker that got an event of a session another holds. */
const MISSED = 0x40000000;
/** control[] index of the accept lock (worker id + 1, | MISSED). */
const ACCEPT_LOCK = 4;
/** control[] index of the wait lock (worker id + 1 of the worker in epoll_wait, or 0). */
const WAIT_LOCK = 5;
/** A claim taken for good at stop by the worker that closes the session. */
const CLOSED_AT_STOP = 0x20000000;

/** Takes the lock word arr[i] for `me` (or finds it already held by me):
 * true. If another holds it, sets MISSED on it for the holder, who looks
 * again before letting go: false. */
function takeOrMarkMissed(arr: Int32Array, i: number, me: number): boolean {
  for (;;) {
    const v = Atomics.compareExchange(arr, i, 0, me);
    if (v === 0 || (v & ~MISSED) === me) return true;
    if (Atomics.compareExchange(arr, i, v, v | MISSED) === v) return false;
  }
}

/** Where accepted sessions go: every set in `targets`, round robin. */
export interface EchoLoopSetup {
  id: number;
  ep: number;
  listener: number;
  targets: number[];
  control: Int32Array;
  /** Per-session claims shared by every worker (see the top). */
  claims: Int32Array;
  maxConnections: number;
  /** See acceptAll: never call accept on an empty backlog, and see
   * waitForEvents: one worker at a time in epoll_wait. */
  acceptFromBacklogOnly?: boolean;
}

/** Runs until control[0] becomes 1, counting into `counters`. */
export function runEchoLoop(s: EchoLoopSetup, counters: EchoCounters): void {
  const { ep, listener, targets, control, claims, maxConnections } = s;
  const me = s.id + 1;
  const evs = new Uint32Array(new ArrayBuffer(8 * MAX_EVENTS));
  const buf = new Uint8Array(new ArrayBuffer(BUF_SIZE));
  // Per-session state, indexed by handle & SLOT_MASK: handle + 1, or 0.
  const known: number[] = [];
  const pending: (Uint8Array | null)[] = [];
  let rr = 0;
  const slotOf = (h: number) => (h & SLOT_MASK) % CLAIM_SLOTS;

  const forget = (h: number) => {
    const i = h & SLOT_MASK;
    known[i] = 0;
    pending[i] = null;
    swept.delete(h);
    const c = slotOf(h);
    if ((Atomics.load(claims, c) & ~MISSED) === me) Atomics.store(claims, c, 0);
    Atomics.sub(control, 3, 1);
    counters.closed++;
  };
  const close = (h: number) => {
    counters.ffiCalls++;
    raw.vlsb_close(h);
    forget(h);
  };

  /** Accepts one session; false when there was none (or on an error). */
  const acceptOne = (): boolean => {
    counters.ffiCalls++;
    const h = raw.vlsb_accept(listener, null, O_NONBLOCK);
    if (h < 0) {
      if (h !== -Errno.EAGAIN) counters.errors++;
      return false;
    }
    if (Atomics.add(control, 3, 1) >= maxConnections) {
      // Over the cap: refused and counted, never allowed to exhaust memory.
      Atomics.sub(control, 3, 1);
      counters.ffiCalls++;
      raw.vlsb_close(h);
      counters.refused++;
      return true;
    }
    const target = targets[rr++ % targets.length];
    counters.ffiCalls++;
    if (raw.vlsb_epoll_ctl(target, EPOLL_CTL_ADD, h, (EPOLLIN | EPOLLRDHUP | et) >>> 0, h) < 0) {
      counters.errors++;
      raw.vlsb_close(h);
      Atomics.sub(control, 3, 1);
      return true;
    }
    counters.accepted++;
    if (s.acceptFromBacklogOnly) swept.add(h);
    return true;
  };

  // VPP single mode with several workers loses events: with 4 workers,
  // --pipeline 4 and 64 KiB messages, sessions stalled with a full receive
  // fifo (GET_NREAD 65536), no claim held and no event coming (26.10-rc0;
  // the one VCL worker's level-triggered list is walked by whichever thread
  // drains the shared queue). So every SWEEP_MS each worker looks at the
  // sessions it accepted and serves one with unread data that nobody is
  // serving, and counts it (sweepFound): a lost event costs latency, not
  // the connection. A sweep that races a coming event is harmless (claims).
  const swept = new Set<number>();
  // The same mode also registers sessions edge-triggered: VCL then keeps
  // them off its level-triggered list, whose walk by several threads
  // crashed VPP (vcl_epoll_lt_del in a close) and lost events; serve()
  // then reads until EAGAIN, and the sweep catches a lost edge.
  const et = s.acceptFromBacklogOnly ? EPOLLET : 0;
  let nextSweep = 0;
  const sweep = () => {
    const now = performance.now();
    if (now < nextSweep) return;
    nextSweep = now + SWEEP_MS;
    for (const h of swept) {
      if (Atomics.load(claims, slotOf(h)) !== 0) continue;
      counters.ffiCalls++;
      const n = raw.vlsb_attr(h, Attr.GET_NREAD, 0, null);
      if (n < 0) swept.delete(h); // closed (by whichever worker)
      else if (n > 0 && takeOrMarkMissed(claims, slotOf(h), me)) {
        counters.sweepFound++;
        serveHeld(h, slotOf(h), EPOLLIN);
      }
    }
  };

  const backlog = () => {
    counters.ffiCalls++;
    return raw.vlsb_attr(listener, Attr.GET_NREAD, 0, null);
  };

  // VPP single mode with several workers: a non-blocking vls_accept that
  // finds the backlog empty while the shared message queue holds events
  // drains that queue itself, inside VLS's wait hooks, without the queue
  // lock another thread's epoll_wait holds: the queue's ring is consumed
  // by two threads at once ("svm_msg_q_free_msg: message out of order"),
  // events are lost and connections stall (26.10-rc0). So accept only
  // while the listener reports a backlog (GET_NREAD), one worker at a
  // time; a worker that finds the lock taken marks it MISSED and the holder
  // looks again before letting go.
  const acceptAll = () => {
    if (!s.acceptFromBacklogOnly) {
      while (acceptOne());
      return;
    }
    if (!takeOrMarkMissed(control, ACCEPT_LOCK, me)) return;
    for (;;) {
      Atomics.and(control, ACCEPT_LOCK, ~MISSED);
      while (backlog() > 0 && acceptOne());
      if (Atomics.compareExchange(control, ACCEPT_LOCK, me, 0) === me) return;
    }
  };

  const fail = (h: number, rv: number) => {
    if (rv === -Errno.ECONNRESET || rv === -Errno.EPIPE) counters.resets++;
    else counters.errors++;
    close(h);
  };

  // Sessions this worker keeps claimed because an unsent rest waits; they
  // are retried after every wait, as their EPOLLOUT may go to another worker.
  const held = new Set<number>();

  /** Serves h's event if this worker holds or can take its claim; if another
   * worker holds it, marks it MISSED so that worker serves it once more. */
  const serveClaimed = (h: number, ev: number) => {
    const c = slotOf(h);
    if (!takeOrMarkMissed(claims, c, me)) return;
    serveHeld(h, c, ev);
  };

  /** Serves a session whose claim this worker holds, until nothing was missed meanwhile. */
  const serveHeld = (h: number, c: number, ev: number) => {
    for (;;) {
      Atomics.and(claims, c, ~MISSED);
      serve(h, ev);
      const i = h & SLOT_MASK;
      if (known[i] !== h + 1) return held.delete(h); // closed: forget released the claim
      if (pending[i]) return held.add(h); // keep the claim: the rest leaves first
      held.delete(h);
      if (Atomics.compareExchange(claims, c, me, 0) === me) return;
      ev = EPOLLIN; // another worker got an event meanwhile: look again
    }
  };

  const serve = (h: number, ev: number) => {
    const i = h & SLOT_MASK;
    if (known[i] !== h + 1) {
      known[i] = h + 1;
      counters.adopted++;
    }
    const rest = pending[i];
    if (rest) {
      counters.ffiCalls++;
      const w = raw.vlsb_write(h, rest, rest.length);
      if (w === -Errno.EAGAIN) return;
      if (w < 0) return fail(h, w);
      counters.bytesOut += w;
      if (w < rest.length) {
        pending[i] = rest.subarray(w);
        return;
      }
      pending[i] = null;
      counters.ffiCalls++;
      raw.vlsb_epoll_ctl(ep, EPOLL_CTL_MOD, h, (EPOLLIN | EPOLLRDHUP | et) >>> 0, h);
    }
    for (;;) {
      counters.ffiCalls++;
      const r = raw.vlsb_read(h, buf, BUF_SIZE);
      if (r > 0) {
        counters.messages++;
        counters.bytesIn += r;
        counters.ffiCalls++;
        const w = raw.vlsb_write(h, buf, r);
        if (w === r) {
          counters.bytesOut += w;
          if (r < BUF_SIZE && !et) return; // level-triggered: the next event says if more came
          continue;
        }
        if (w < 0 && w !== -Errno.EAGAIN) return fail(h, w);
        const sent = w > 0 ? w : 0;
        counters.bytesOut += sent;
        // Backpressure: keep only the unsent rest (a copy), stop reading.
        pending[i] = buf.slice(sent, r);
        counters.ffiCalls++;
        // In single mode h may sit in another worker's set: then this MOD
        // names the wrong set and is refused (EINVAL on VPP), and the held
        // retry after each wait sends the rest instead. Naming h's own set
        // was tried on VPP and did worse (4 workers, --pipeline 4 --size
        // 64-64k: 15k msgs/s and more stalls, against 44k).
        raw.vlsb_epoll_ctl(ep, EPOLL_CTL_MOD, h, (EPOLLOUT | EPOLLRDHUP | et) >>> 0, h);
        return;
      }
      if (r === -Errno.EAGAIN) {
        if (ev & (EPOLLERR | EPOLLHUP)) close(h);
        return;
      }
      if (r === 0) return close(h); // peer closed or half-closed: all echoed
      return fail(h, r);
    }
  };

  // VPP single mode with several workers: VLS lets one thread at a time
  // into epoll_wait (its queue mutex), but a thread blocked on that mutex
  // already holds VLS's pool read lock, and with two or more blocked there
  // the pool lock is never free: accept's pool write lock (a reader-first
  // spin lock) starves and the acceptor hangs (26.10-rc0). So the workers
  // take turns here, outside VLS, and only the one in epoll_wait is inside.
  const waitForEvents = (): number => {
    if (!s.acceptFromBacklogOnly) return raw.vlsb_epoll_wait(ep, evs, MAX_EVENTS, WAIT_MS);
    for (;;) {
      const v = Atomics.compareExchange(control, WAIT_LOCK, 0, me);
      if (v === 0) break;
      if (Atomics.load(control, 0) !== 0) return 0;
      Atomics.wait(control, WAIT_LOCK, v, WAIT_MS);
    }
    try {
      return raw.vlsb_epoll_wait(ep, evs, MAX_EVENTS, WAIT_MS);
    } finally {
      Atomics.store(control, WAIT_LOCK, 0);
      Atomics.notify(control, WAIT_LOCK, 1);
    }
  };

  while (Atomics.load(control, 0) === 0) {
    counters.ffiCalls++;
    const n = waitForEvents();
    if (n < 0) {
      if (n === -Errno.EINTR) break;
      counters.errors++;
      continue;
    }
    for (let k = 0; k < n; k++) {
      const d = evs[2 * k + 1];
      if (d === LISTENER_TAG) acceptAll();
      else serveClaimed(d, evs[2 * k]);
    }
    for (const h of held) serveHeld(h, slotOf(h), EPOLLOUT);
    if (s.acceptFromBacklogOnly) sweep();
  }
  // Stop: close what this worker knows, each session once across workers.
  // In single mode several workers may know one session (its events reach
  // any of them), and two closes of one handle at once are unsafe on VPP
  // (26.10-rc0: vls_close re-reads the session after the first close freed
  // it, and crashes). So a worker closes a session only if it can claim it,
  // and the claim stays taken.
  for (let i = 0; i < known.length; i++) {
    if (!known[i]) continue;
    const h = known[i] - 1;
    const c = slotOf(h);
    const v = Atomics.compareExchange(claims, c, 0, CLOSED_AT_STOP);
    if (v !== 0 && (v & ~MISSED) !== me) continue;
    close(h);
    Atomics.store(claims, c, CLOSED_AT_STOP);
  }
}
