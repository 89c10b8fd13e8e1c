/**
 * One load connection's state in the load loop (load-loop.ts): its handle,
 * its ring of messages in flight, its echo checker, and the message it is
 * writing now. One object per connection, made before the run starts; the
 * loop allocates nothing per message.
 */
import { InFlight } from "./inflight.ts";
import type { EchoChecker } from "./echo-checker.ts";

/** Most messages in flight on one connection. */
export const RING_MAX = 65536;

/** A connection of the load loop. */
export class LoadConnection {
  readonly ring: InFlight;
  /** Set once, right after the ring (the checker checks against the ring). */
  checker!: EchoChecker;
  /** Open loop: how many of its messages are due by now. */
  due = 0;
  /** A message is being written (selected, not all of it taken yet). */
  writing = false;
  /** Its first byte was written, so the ring holds it. */
  added = false;
  /** Closed loop: it was selected inside the measured window. */
  measured = false;
  /** When it was selected (a first byte that cannot go within --timeout is an error). */
  selectedNs = 0;
  /** Bytes of it written so far, and its size. */
  off = 0;
  size = 0;
  sentBytes = 0;
  recvBytes = 0;
  /** Registered for EPOLLOUT too (it starts so: connect completion). */
  wantOut = true;
  /** Count mode: measured messages selected, and its share of --count. */
  measuredSent = 0;
  quota = 0;
  /** Measured messages completed. */
  completed = 0;

  constructor(
    /** Index in this worker (epoll data). */
    readonly index: number,
    /** Index across every worker (the message header's connection id). */
    readonly global: number,
    readonly handle: number,
    ringCapacity: number,
  ) {
    this.ring = new InFlight(ringCapacity, RING_MAX);
  }

  /** Sequence number of the message being written (or the next one). */
  writingSeq(): number {
    return this.added ? this.ring.next - 1 : this.ring.next;
  }
}
