/**
 * The echo loop of VPP's single mode with several workers: the plain loop
 * (echo-loop.ts) wrapped in workarounds of VPP defects, each named below.
 * All were seen on 26.10-rc0 (several on 24.06 too); all but the claims are
 * switched off by `server --vpp-workarounds off`.
 *
 * | defect of VPP's single-worker VLS                               | workaround                    |
 * |-----------------------------------------------------------------|-------------------------------|
 * | an event of any session reaches whichever thread drains the one | claims (serveClaimed),        |
 * | message queue, whatever epoll set holds the session             | held retry, claimed close     |
 * | two vls_close of one handle at once crash (use after free)      | claimed close at stop         |
 * | a non-blocking accept on an empty backlog drains the shared     | accept lock, backlog-only     |
 * | queue without its lock ("svm_msg_q_free_msg: message out of     | accepts (acceptAll)           |
 * | order"): events lost                                            |                               |
 * | threads blocked on the queue mutex in epoll_wait hold the pool  | wait lock (waitForEvents)     |
 * | read lock: accept's pool write lock starves, the acceptor hangs |                               |
 * | several threads walking the one level-triggered list crash VPP  | edge-triggered registration   |
 * | (vcl_epoll_lt_del in a close) and lose events                   |                               |
 * | events are lost anyway (sessions stall with a full rx fifo)     | sweep                         |
 *
 * Claims: a worker serves a session only while it holds the session's
 * claim (a compare-and-swap on shared memory, no FFI call); a worker that
 * gets an event of a session another holds marks the claim MISSED, and the
 * holder serves the session once more before letting go. A claim is kept
 * while an unsent rest is pending, so the bytes of a session always leave
 * in order from the worker that holds them.
 */
import { raw } from "../native/ffi.ts";
import { Attr, EPOLLIN, EPOLLOUT } from "../native/vls.ts";
import { Control, type EchoCounters } from "./protocol.ts";
import { EchoLoop, SLOT_MASK, WAIT_MS, type EchoLoopSetup } from "./echo-loop.ts";

/** Claim slots: one per session slot (handle & SLOT_MASK) below this. */
export const CLAIM_SLOTS = 65536;
/** How often a worker looks for sessions with unread data nobody serves. */
const SWEEP_MS = 20;
/** Set on a claim by a worker that got an event of a session another holds. */
export const MISSED = 0x40000000;
/** A claim taken for good at stop by the worker that closes the session. */
const CLOSED_AT_STOP = 0x20000000;

/** Takes the lock word arr[i] for `me` (or finds it already held by me):
 * true. If another holds it, sets MISSED on it for the holder, who looks
 * again before letting go: false. */
export function takeOrMarkMissed(arr: Int32Array, i: number, me: number): boolean {
  for (;;) {
    const v = Atomics.compareExchange(arr, i, 0, me);
    if (v === 0 || (v & ~MISSED) === me) return true;
    if (Atomics.compareExchange(arr, i, v, v | MISSED) === v) return false;
  }
}

const slotOf = (h: number) => (h & SLOT_MASK) % CLAIM_SLOTS;

/** EchoLoop under claims, with VPP's single-mode workarounds. */
export class VppSingleEchoLoop extends EchoLoop {
  private readonly me: number;
  private readonly workarounds: boolean;
  /** Sessions this worker keeps claimed because an unsent rest waits; they
   * are retried after every wait, as their EPOLLOUT may go to another worker. */
  private readonly held = new Set<number>();
  /** Sessions this worker accepted, for the sweep. */
  private readonly swept = new Set<number>();
  private nextSweep = 0;

  constructor(s: EchoLoopSetup, counters: EchoCounters) {
    // Edge-triggered registration: VCL then keeps the sessions off its
    // level-triggered list, whose walk by several threads crashed VPP
    // (vcl_epoll_lt_del in a close) and lost events; serve() then reads
    // until EAGAIN, and the sweep catches a lost edge.
    super(s, counters, s.acceptFromBacklogOnly === true);
    this.me = s.id + 1;
    this.workarounds = s.acceptFromBacklogOnly === true;
  }

  /** Serves h's event if this worker holds or can take its claim; if another
   * worker holds it, marks it MISSED so that worker serves it once more. */
  protected override onEvent(h: number, ev: number): void {
    const c = slotOf(h);
    if (!takeOrMarkMissed(this.s.claims, c, this.me)) return;
    this.serveHeld(h, c, ev);
  }

  /** Serves a session whose claim this worker holds, until nothing was missed meanwhile. */
  private serveHeld(h: number, c: number, ev: number): void {
    const { claims } = this.s;
    for (;;) {
      Atomics.and(claims, c, ~MISSED);
      this.serve(h, ev);
      if (!this.knows(h)) return void this.held.delete(h); // closed: forget released the claim
      if (this.hasRest(h)) return void this.held.add(h); // keep the claim: the rest leaves first
      this.held.delete(h);
      if (Atomics.compareExchange(claims, c, this.me, 0) === this.me) return;
      ev = EPOLLIN; // another worker got an event meanwhile: look again
    }
  }

  protected override afterBatch(): void {
    for (const h of this.held) this.serveHeld(h, slotOf(h), EPOLLOUT);
    if (this.workarounds) this.sweep();
  }

  protected override onAccepted(h: number): void {
    if (this.workarounds) this.swept.add(h);
  }

  protected override forget(h: number): void {
    super.forget(h);
    this.swept.delete(h);
    const c = slotOf(h);
    if ((Atomics.load(this.s.claims, c) & ~MISSED) === this.me) Atomics.store(this.s.claims, c, 0);
  }

  // Lost events: with 4 workers, --pipeline 4 and 64 KiB messages,
  // sessions stalled with a full receive fifo (GET_NREAD 65536), no claim
  // held and no event coming (the one VCL worker's event list is walked by
  // whichever thread drains the shared queue). So every SWEEP_MS each
  // worker looks at the sessions it accepted and serves one with unread
  // data that nobody is serving, and counts it (sweepFound): a lost event
  // costs latency, not the connection. A sweep that races a coming event
  // is harmless (claims).
  private sweep(): void {
    const now = performance.now();
    if (now < this.nextSweep) return;
    this.nextSweep = now + SWEEP_MS;
    const { claims } = this.s;
    for (const h of this.swept) {
      if (Atomics.load(claims, slotOf(h)) !== 0) continue;
      this.counters.ffiCalls++;
      const n = raw.vlsb_attr(h, Attr.GET_NREAD, 0, null);
      if (n < 0) this.swept.delete(h); // closed (by whichever worker)
      else if (n > 0 && takeOrMarkMissed(claims, slotOf(h), this.me)) {
        this.counters.sweepFound++;
        this.serveHeld(h, slotOf(h), EPOLLIN);
      }
    }
  }

  // Accept lock: a non-blocking vls_accept that finds the backlog empty
  // while the shared message queue holds events drains that queue itself,
  // inside VLS's wait hooks, without the queue lock another thread's
  // epoll_wait holds: the queue's ring is consumed by two threads at once
  // ("svm_msg_q_free_msg: message out of order"), events are lost and
  // connections stall. So accept only while the listener reports a backlog
  // (GET_NREAD), one worker at a time; a worker that finds the lock taken
  // marks it MISSED and the holder looks again before letting go.
  protected override acceptAll(): void {
    if (!this.workarounds) return super.acceptAll();
    const { control } = this.s;
    if (!takeOrMarkMissed(control, Control.ACCEPT_LOCK, this.me)) return;
    for (;;) {
      Atomics.and(control, Control.ACCEPT_LOCK, ~MISSED);
      while (this.backlog() > 0 && this.acceptOne());
      if (Atomics.compareExchange(control, Control.ACCEPT_LOCK, this.me, 0) === this.me) return;
    }
  }

  private backlog(): number {
    this.counters.ffiCalls++;
    return raw.vlsb_attr(this.s.listener, Attr.GET_NREAD, 0, null);
  }

  // Wait lock: VLS lets one thread at a time into epoll_wait (its queue
  // mutex), but a thread blocked on that mutex already holds VLS's pool
  // read lock, and with two or more blocked there the pool lock is never
  // free: accept's pool write lock (a reader-first spin lock) starves and
  // the acceptor hangs. So the workers take turns here, outside VLS, and
  // only the one in epoll_wait is inside.
  protected override waitForEvents(): number {
    if (!this.workarounds) return super.waitForEvents();
    const { control } = this.s;
    for (;;) {
      const v = Atomics.compareExchange(control, Control.WAIT_LOCK, 0, this.me);
      if (v === 0) break;
      if (Atomics.load(control, Control.STOP) !== 0) return 0;
      Atomics.wait(control, Control.WAIT_LOCK, v, WAIT_MS);
    }
    try {
      return super.waitForEvents();
    } finally {
      Atomics.store(control, Control.WAIT_LOCK, 0);
      Atomics.notify(control, Control.WAIT_LOCK, 1);
    }
  }

  // Claimed close at stop: several workers may know one session (its
  // events reach any of them), and two closes of one handle at once crash
  // VPP (vls_close re-reads the session after the first close freed it).
  // So a worker closes a session only if it can claim it, and the claim
  // stays taken.
  protected override closeAll(): void {
    const { claims } = this.s;
    for (const session of this.sessions) {
      if (!session) continue;
      const h = session.handle;
      const c = slotOf(h);
      const v = Atomics.compareExchange(claims, c, 0, CLOSED_AT_STOP);
      if (v !== 0 && (v & ~MISSED) !== this.me) continue;
      this.close(h);
      Atomics.store(claims, c, CLOSED_AT_STOP);
    }
  }
}
