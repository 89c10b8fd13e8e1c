/**
 * The three ways the load loop (load-loop.ts) decides when a message may
 * go and when the run is over: closed loop for a duration, closed loop for
 * a count, and open loop on a schedule (schedule.ts). The loop asks its
 * mode; the mode asks nothing of the native side but the clock.
 */
import { raw } from "../native/ffi.ts";
import { ACTIVE } from "./connections.ts";
import type { LoadConnection } from "./load-connection.ts";
import type { LoadWorkerInit } from "./protocol.ts";
import type { Recorder } from "./recorder.ts";
import { Schedule } from "./schedule.ts";

/** What a mode needs of the loop. */
export interface ModeLoop {
  readonly conns: LoadConnection[];
  readonly state: Uint8Array;
  /** Messages due or selected but without a first byte written yet. */
  queued: number;
  /** Sends what each active connection may send now. */
  sendAll(): void;
  /** n more of connection c's messages are due now. */
  onDue: (c: number, n: number) => void;
}

/** How a run paces its messages. */
export interface LoopMode {
  readonly open: boolean;
  /** Measured window: start and end (ns), and its length (s). */
  readonly measureStart: number;
  readonly windowEnd: number;
  readonly windowSec: number;
  /** Capacity the rings start with. */
  readonly ringCapacity: number;
  /** Called each turn of the loop with the clock. */
  advance(now: number, loop: ModeLoop): void;
  /** Whether `conn` may start its next message now (its ring has room):
   * the selection time (ns), or -1. */
  select(conn: LoadConnection, loop: ModeLoop): number;
  /** Whether the message `conn` starts at t is measured (open loop: records its lag). */
  measuredAt(conn: LoadConnection, seq: number, t: number): boolean;
  /** The time a message's latency counts from. */
  intendedNs(seq: number, c: number, sentNs: number): number;
  /** Messages of conn waiting for their first byte. */
  pending(conn: LoadConnection): number;
  /** conn died. */
  onKill(conn: LoadConnection): void;
  /** Nothing more will be selected. */
  done(): boolean;
  /** When the next message is due (the loop sleeps until then at most). */
  nextSendNs(now: number, loop: ModeLoop): number;
  /** The time the run's rate is computed over. */
  measuredNs(endNs: number, lastMeasuredReplyNs: number): number;
}

/** Closed loop for --duration: `pipeline` in flight per connection. */
export class ClosedMode implements LoopMode {
  readonly open = false;
  readonly measureStart: number;
  windowEnd: number;
  readonly windowSec: number;
  readonly ringCapacity: number;
  protected started = false;
  protected stopped = false;

  constructor(protected readonly init: LoadWorkerInit) {
    this.measureStart = init.startNs + init.warmupSec * 1e9;
    this.windowEnd = this.measureStart + init.durationSec * 1e9;
    this.windowSec = init.durationSec;
    this.ringCapacity = init.pipeline;
  }

  advance(now: number, loop: ModeLoop): void {
    if (!this.started && now >= this.init.startNs) {
      this.started = true;
      loop.sendAll();
    } else if (!this.stopped && now >= this.windowEnd) {
      this.stopped = true;
    }
  }

  select(conn: LoadConnection, loop: ModeLoop): number {
    if (this.stopped || !this.started) return -1;
    const now = raw.vlsb_now_ns();
    if (now >= this.windowEnd) {
      this.stopped = true;
      return -1;
    }
    conn.measured = now >= this.measureStart;
    loop.queued++;
    return now;
  }

  measuredAt(conn: LoadConnection): boolean {
    return conn.measured;
  }

  intendedNs(_seq: number, _c: number, sentNs: number): number {
    return sentNs;
  }

  pending(conn: LoadConnection): number {
    return conn.writing && !conn.added ? 1 : 0;
  }

  onKill(_conn: LoadConnection): void {}

  done(): boolean {
    return this.stopped;
  }

  nextSendNs(): number {
    return this.started ? Infinity : this.init.startNs;
  }

  measuredNs(endNs: number, _lastMeasuredReplyNs: number): number {
    return Math.min(this.windowEnd, endNs) - this.measureStart;
  }
}

/** Closed loop for --count: each connection its share of the count. */
export class CountMode extends ClosedMode {
  /** Connections alive that have measured messages left to select. */
  private quotaLeft = 0;

  constructor(init: LoadWorkerInit) {
    super(init);
    this.windowEnd = Infinity;
  }

  /** Gives conn its share of --count (before the run). */
  assign(conn: LoadConnection, alive: boolean): void {
    const { count, totalConnections } = this.init;
    conn.quota = Math.floor(count / totalConnections) + (conn.global < count % totalConnections ? 1 : 0);
    if (alive && conn.quota > 0) this.quotaLeft++;
  }

  override advance(now: number, loop: ModeLoop): void {
    if (!this.started && now >= this.init.startNs) {
      this.started = true;
      loop.sendAll();
    }
  }

  override select(conn: LoadConnection, loop: ModeLoop): number {
    if (!this.started) return -1;
    const now = raw.vlsb_now_ns();
    const measured = now >= this.measureStart;
    if (measured && conn.measuredSent >= conn.quota) return -1;
    if (measured && ++conn.measuredSent === conn.quota) this.quotaLeft--;
    conn.measured = measured;
    loop.queued++;
    return now;
  }

  override onKill(conn: LoadConnection): void {
    if (conn.measuredSent < conn.quota) this.quotaLeft--;
  }

  override done(): boolean {
    return this.quotaLeft <= 0;
  }

  override measuredNs(_endNs: number, lastMeasuredReplyNs: number): number {
    return lastMeasuredReplyNs - this.measureStart;
  }
}

/** Open loop: messages due on the schedule whatever the replies. */
export class OpenMode implements LoopMode {
  readonly open = true;
  readonly measureStart: number;
  readonly windowEnd: number;
  readonly windowSec: number;
  readonly ringCapacity = 8;
  readonly sched: Schedule;

  constructor(
    private readonly init: LoadWorkerInit,
    private readonly lag: Recorder,
  ) {
    this.measureStart = init.startNs + init.warmupSec * 1e9;
    this.sched = new Schedule(init.startNs, init.rate, init.totalConnections, init.connBase, init.connections, init.g1);
    this.windowEnd = init.startNs + init.g1 * this.sched.periodNs;
    this.windowSec = ((init.g1 - init.g0) * this.sched.periodNs) / 1e9;
  }

  advance(now: number, loop: ModeLoop): void {
    this.sched.advanceTo(now, loop.onDue);
  }

  select(conn: LoadConnection): number {
    if (conn.ring.next >= conn.due) return -1;
    conn.measured = false;
    return raw.vlsb_now_ns();
  }

  measuredAt(conn: LoadConnection, seq: number, t: number): boolean {
    const g = this.sched.index(seq, conn.index);
    const measured = g >= this.init.g0 && g < this.init.g1;
    if (measured) this.lag.record(t - this.sched.intendedNs(seq, conn.index));
    return measured;
  }

  intendedNs(seq: number, c: number): number {
    return this.sched.intendedNs(seq, c);
  }

  pending(conn: LoadConnection): number {
    return conn.due - conn.ring.next;
  }

  onKill(): void {}

  done(): boolean {
    return this.sched.nextNs === Infinity;
  }

  // When the next scheduled message goes to a connection that already has
  // due messages it cannot send yet (window full, socket full, still
  // connecting), its time changes nothing: only a reply or writability
  // does, and epoll wakes on those. Wait on epoll then instead of polling,
  // so a generator far behind schedule does not take the CPU the server
  // needs (on 2 cores it made echoes inside the window 2x slower than in
  // the drain after it).
  nextSendNs(now: number, loop: ModeLoop): number {
    const j = this.sched.j;
    return loop.state[j] === ACTIVE && this.pending(loop.conns[j]) === 0 ? this.sched.nextNs : now + 1.2e6 + 1;
  }

  // From the window's start to the last measured reply, which may come
  // after the window when the server fell behind (so msgs/s is never more
  // than was really echoed per second).
  measuredNs(_endNs: number, lastMeasuredReplyNs: number): number {
    return Math.max(this.windowSec * 1e9, lastMeasuredReplyNs - this.measureStart);
  }
}
