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
 * `EchoLoop` is the plain loop (kernel backend, thread mode, one worker).
 * VPP's single mode with several workers runs `VppSingleEchoLoop`
 * (vpp-single.ts), which wraps the same steps in its workarounds.
 */
import { raw } from "../native/ffi.ts";
import { Errno } from "../native/errno.ts";
import { EPOLLIN, EPOLLOUT, EPOLLRDHUP, EPOLLERR, EPOLLHUP, EPOLLET, EPOLL_CTL_ADD, EPOLL_CTL_MOD, O_NONBLOCK } from "../native/vls.ts";
import { Control, type EchoCounters } from "./protocol.ts";

/** Epoll data marking the listener. */
export const LISTENER_TAG = 0xffffffff;
const MAX_EVENTS = 256;
const BUF_SIZE = 64 * 1024;
/** epoll_wait timeout: how soon a worker sees the stop word. */
export const WAIT_MS = 50;
/** A session's slot in per-session tables: the handle's index bits. */
export const SLOT_MASK = 0xffffff;

/** Where accepted sessions go: every set in `targets`, round robin. */
export interface EchoLoopSetup {
  id: number;
  ep: number;
  listener: number;
  targets: number[];
  /** Shared control words, slots named by `Control` (protocol.ts). */
  control: Int32Array;
  /** Per-session claims shared by every worker (vpp-single.ts). */
  claims: Int32Array;
  maxConnections: number;
  /** VppSingleEchoLoop only: its workarounds on (accept only from a
   * backlog, one worker at a time; one worker at a time in epoll_wait;
   * edge-triggered sessions; the lost-event sweep). */
  acceptFromBacklogOnly?: boolean;
}

/** One session this worker serves: its handle and its unsent rest. */
export class EchoSession {
  /** The part of the last echo the socket did not take yet, or null. */
  rest: Uint8Array | null = null;
  constructor(readonly handle: number) {}
}

/** The plain echo loop of one worker; subclasses hook its steps. */
export class EchoLoop {
  /** Sessions this worker knows, by handle & SLOT_MASK. */
  protected readonly sessions: (EchoSession | undefined)[] = [];
  protected readonly evs = new Uint32Array(new ArrayBuffer(8 * MAX_EVENTS));
  private readonly buf = new Uint8Array(new ArrayBuffer(BUF_SIZE));
  private rr = 0;
  /** EPOLLET or 0: edge-triggered sessions are read until EAGAIN. */
  protected readonly et: number;

  constructor(
    protected readonly s: EchoLoopSetup,
    protected readonly counters: EchoCounters,
    edgeTriggered = false,
  ) {
    this.et = edgeTriggered ? EPOLLET : 0;
  }

  /** Runs until the stop word is set, then closes what this worker knows. */
  run(): void {
    const { control } = this.s;
    const evs = this.evs;
    while (Atomics.load(control, Control.STOP) === 0) {
      this.counters.ffiCalls++;
      const n = this.waitForEvents();
      if (n < 0) {
        if (n === -Errno.EINTR) break;
        this.counters.errors++;
        continue;
      }
      for (let k = 0; k < n; k++) {
        const d = evs[2 * k + 1];
        if (d === LISTENER_TAG) this.acceptAll();
        else this.onEvent(d, evs[2 * k]);
      }
      this.afterBatch();
    }
    this.closeAll();
  }

  /** One epoll_wait into `evs`: the count, or a negative errno. */
  protected waitForEvents(): number {
    return raw.vlsb_epoll_wait(this.s.ep, this.evs, MAX_EVENTS, WAIT_MS);
  }

  /** The listener is readable: accept every pending session. */
  protected acceptAll(): void {
    while (this.acceptOne());
  }

  /** An event of session h. */
  protected onEvent(h: number, ev: number): void {
    this.serve(h, ev);
  }

  /** After each batch of events. */
  protected afterBatch(): void {}

  /** A session was accepted and registered in one of the targets. */
  protected onAccepted(_h: number): void {}

  /** Accepts one session; false when there was none (or on an error). */
  protected acceptOne(): boolean {
    const { s, counters } = this;
    counters.ffiCalls++;
    const h = raw.vlsb_accept(s.listener, null, O_NONBLOCK);
    if (h < 0) {
      if (h !== -Errno.EAGAIN) counters.errors++;
      return false;
    }
    if (Atomics.add(s.control, Control.CONNECTIONS, 1) >= s.maxConnections) {
      // Over the cap: refused and counted, never allowed to exhaust memory.
      Atomics.sub(s.control, Control.CONNECTIONS, 1);
      counters.ffiCalls++;
      raw.vlsb_close(h);
      counters.refused++;
      return true;
    }
    const target = s.targets[this.rr++ % s.targets.length];
    counters.ffiCalls++;
    if (raw.vlsb_epoll_ctl(target, EPOLL_CTL_ADD, h, (EPOLLIN | EPOLLRDHUP | this.et) >>> 0, h) < 0) {
      counters.errors++;
      raw.vlsb_close(h);
      Atomics.sub(s.control, Control.CONNECTIONS, 1);
      return true;
    }
    counters.accepted++;
    this.onAccepted(h);
    return true;
  }

  /** Whether h is a session this worker knows and has not closed. */
  protected knows(h: number): boolean {
    return this.sessions[h & SLOT_MASK]?.handle === h;
  }

  /** The rest h still has to send (this worker knows h). */
  protected hasRest(h: number): boolean {
    return this.sessions[h & SLOT_MASK]!.rest !== null;
  }

  /** Serves one event of h: the unsent rest first, then read and echo. */
  protected serve(h: number, ev: number): void {
    const { counters, buf, et } = this;
    const i = h & SLOT_MASK;
    let session = this.sessions[i];
    if (session === undefined || session.handle !== h) {
      session = this.sessions[i] = new EchoSession(h);
      counters.adopted++;
    }
    const rest = session.rest;
    if (rest) {
      counters.ffiCalls++;
      const w = raw.vlsb_write(h, rest, rest.length);
      if (w === -Errno.EAGAIN) return;
      if (w < 0) return this.fail(h, w);
      counters.bytesOut += w;
      if (w < rest.length) {
        session.rest = rest.subarray(w);
        return;
      }
      session.rest = null;
      counters.ffiCalls++;
      raw.vlsb_epoll_ctl(this.s.ep, EPOLL_CTL_MOD, h, (EPOLLIN | EPOLLRDHUP | et) >>> 0, h);
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
        if (w < 0 && w !== -Errno.EAGAIN) return this.fail(h, w);
        const sent = w > 0 ? w : 0;
        counters.bytesOut += sent;
        // Backpressure: keep only the unsent rest (a copy), stop reading.
        session.rest = buf.slice(sent, r);
        counters.ffiCalls++;
        // In VPP single mode h may sit in another worker's set: then this
        // MOD names the wrong set and is refused (EINVAL on VPP), and the
        // held retry of vpp-single.ts sends the rest instead. Naming h's
        // own set was tried on VPP and did worse (4 workers, --pipeline 4
        // --size 64-64k: 15k msgs/s and more stalls, against 44k).
        raw.vlsb_epoll_ctl(this.s.ep, EPOLL_CTL_MOD, h, (EPOLLOUT | EPOLLRDHUP | et) >>> 0, h);
        return;
      }
      if (r === -Errno.EAGAIN) {
        if (ev & (EPOLLERR | EPOLLHUP)) this.close(h);
        return;
      }
      if (r === 0) return this.close(h); // peer closed or half-closed: all echoed
      return this.fail(h, r);
    }
  }

  private fail(h: number, rv: number): void {
    if (rv === -Errno.ECONNRESET || rv === -Errno.EPIPE) this.counters.resets++;
    else this.counters.errors++;
    this.close(h);
  }

  /** Closes h and forgets it. */
  protected close(h: number): void {
    this.counters.ffiCalls++;
    raw.vlsb_close(h);
    this.forget(h);
  }

  /** h is closed: drop its state and its place under the cap. */
  protected forget(h: number): void {
    this.sessions[h & SLOT_MASK] = undefined;
    Atomics.sub(this.s.control, Control.CONNECTIONS, 1);
    this.counters.closed++;
  }

  /** At stop: closes every session this worker knows. */
  protected closeAll(): void {
    for (const session of this.sessions) if (session) this.close(session.handle);
  }
}
