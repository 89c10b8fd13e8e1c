/**
 * The loop of one load worker over its connections, closed or open loop.
 *
 * Closed loop: each connection keeps `pipeline` messages in flight; a reply
 * lets the next one go. Open loop: messages are due on the schedule
 * (schedule.ts) whatever the replies, and are written as soon as they are
 * due, unless the connection already has `pipeline` in flight (0: no limit)
 * or the socket is full; then they wait in the client and keep their
 * intended time. Nothing is sent before the common start time. Which of
 * these applies is the loop's mode (loop-modes.ts); each connection's state
 * is a LoadConnection (load-connection.ts).
 *
 * Timestamps come from the native monotonic clock (vlsb_now_ns): the send
 * time just before the write that carries a message's first byte, the reply
 * time just after the read that completes its echo. Latency is reply minus
 * intended time ("corrected"; in closed loop intended = send) and, in open
 * loop, reply minus send ("uncorrected"). Every echoed byte is checked
 * (echo-checker.ts). Errors end the connection they happen on and are
 * counted by kind; the run goes on with the others.
 *
 * After the measured window nothing new is scheduled; the loop drains what
 * is in flight (bounded by --timeout) so the slowest replies are counted.
 */
import { raw } from "../native/ffi.ts";
import { Errno, errnoName } from "../native/errno.ts";
import { EPOLLIN, EPOLLOUT, EPOLLERR, EPOLLHUP, EPOLL_CTL_MOD } from "../native/vls.ts";
import { CONNECTING, ACTIVE, DEAD, type OpenedConnections } from "./connections.ts";
import { newPattern, messageSize, writeHeader } from "./message.ts";
import { EchoChecker } from "./echo-checker.ts";
import { Recorder } from "./recorder.ts";
import { planWait, type WaitPlan } from "./schedule.ts";
import { LoadConnection } from "./load-connection.ts";
import { ClosedMode, CountMode, OpenMode, type LoopMode, type ModeLoop } from "./loop-modes.ts";
import { noIntegrity, type LoadWorkerInit, type LoadWorkerResult, type ErrorCounts, type WorkerTick } from "./protocol.ts";

export { RING_MAX } from "./load-connection.ts";

const MAX_EVENTS = 256;

/** Errnos of a connect that failed (a write may be the first call to see it). */
const CONNECT_ERRNOS = new Set<number>([Errno.ECONNREFUSED, Errno.ETIMEDOUT, Errno.EHOSTUNREACH, Errno.ENETUNREACH, Errno.EADDRNOTAVAIL]);

/** The error kind of a failed write: a reset or a closed peer is counted as `read` (as a read would see it), a failed connect as `connect`. */
function writeErrorKind(errno: number): keyof ErrorCounts {
  if (errno === Errno.ECONNRESET || errno === Errno.EPIPE) return "read";
  return CONNECT_ERRNOS.has(errno) ? "connect" : "write";
}
const READ_BUF = 64 * 1024;

/** Runs warm-up, measurement and drain; posts a tick per second; returns the worker's result. */
export function runLoop(init: LoadWorkerInit, o: OpenedConnections, post: (t: WorkerTick) => void): LoadWorkerResult {
  return new LoadLoop(init, o, post).run();
}

/** The pacing mode a worker's init asks for. */
export function modeOf(init: LoadWorkerInit, lag: Recorder | null): LoopMode {
  if (init.rate > 0) return new OpenMode(init, lag!);
  return init.count > 0 ? new CountMode(init) : new ClosedMode(init);
}

/** One load worker's run over its connections. */
export class LoadLoop implements ModeLoop {
  readonly conns: LoadConnection[] = [];
  readonly state: Uint8Array;
  queued = 0;
  private readonly mode: LoopMode;
  private readonly depth: number;
  private readonly pattern: Buffer;
  private readonly evs = new Uint32Array(new ArrayBuffer(8 * MAX_EVENTS));
  private readonly rbuf = new Uint8Array(new ArrayBuffer(READ_BUF));
  private readonly rb = Buffer.from(this.rbuf.buffer);
  private readonly corrected = new Recorder();
  private readonly uncorrected: Recorder | null;
  private readonly lag: Recorder | null;
  private readonly integrity = noIntegrity();
  private readonly errors: ErrorCounts;
  private firstError: string | null;
  private live = 0;
  private messages = 0;
  private bytes = 0;
  private inflight = 0;
  /** Time of the read that completed the echo being checked now. */
  private t1 = 0;
  private lastMeasuredReply: number;
  private sentInWindow = 0;
  private repliesInWindow = 0;
  /** Most first bytes written in one millisecond of the window. */
  private peakMs = 0;
  private curMs = -1;
  private curMsCount = 0;
  private readonly lastBoundary: number;
  private tickIndex = 0;
  private tickMessages = 0;
  private tickEnd: number;

  constructor(
    private readonly init: LoadWorkerInit,
    private readonly o: OpenedConnections,
    private readonly post: (t: WorkerTick) => void,
  ) {
    const open = init.rate > 0;
    this.uncorrected = open ? new Recorder() : null;
    this.lag = open ? new Recorder() : null;
    this.mode = modeOf(init, this.lag);
    this.depth = init.pipeline > 0 ? init.pipeline : Infinity;
    this.state = o.state;
    this.errors = o.errors;
    this.firstError = o.firstError;
    this.pattern = Buffer.from(newPattern(init.sizeHi, init.id).buffer);
    const { measureStart, windowEnd, windowSec } = this.mode;
    this.lastMeasuredReply = measureStart;
    this.lastBoundary = windowEnd === Infinity ? Infinity : Math.ceil(windowSec - 1e-9) - 1;
    this.tickEnd = this.lastBoundary >= 1 ? measureStart + 1e9 : Infinity;
    for (let c = 0; c < init.connections; c++) {
      const conn = new LoadConnection(c, init.connBase + c, o.handles[c], this.mode.ringCapacity);
      conn.checker = new EchoChecker(conn.global, conn.ring, init.sizeLo, init.sizeHi, this.pattern, (seq, size) => this.onReply(conn, seq, size));
      this.conns.push(conn);
      const alive = this.state[c] !== DEAD;
      if (alive) this.live++;
      if (this.mode instanceof CountMode) this.mode.assign(conn, alive);
    }
  }

  /** Errors so far, of every kind. */
  private errorTotal(): number {
    const e = this.errors;
    let n = e.connect + e.read + e.write + e.timeout + this.integrity.corrupt;
    for (const { checker: k, ring: r } of this.conns) n += k.corrupt + k.duplicated + k.reordered + r.lost + r.missing;
    return n;
  }

  private flushTick(endNs: number): void {
    const i = this.tickIndex;
    this.post({ type: "tick", id: this.init.id, index: i, startNs: this.mode.measureStart + i * 1e9, endNs, messages: this.tickMessages, errors: this.errorTotal(), corrected: this.corrected.drain(), uncorrected: this.uncorrected ? this.uncorrected.drain() : null });
    this.tickIndex++;
    this.tickMessages = 0;
    this.tickEnd = this.tickIndex + 1 <= this.lastBoundary ? this.mode.measureStart + (this.tickIndex + 1) * 1e9 : Infinity;
  }

  private flushTicks(now: number): void {
    while (now >= this.tickEnd) this.flushTick(this.tickEnd);
  }

  private onReply(conn: LoadConnection, seq: number, size: number): void {
    const t1 = this.t1;
    const ring = conn.ring;
    if (ring.measured(seq)) {
      const sent = ring.sentAt(seq);
      this.corrected.record(t1 - this.mode.intendedNs(seq, conn.index, sent));
      this.uncorrected?.record(t1 - sent);
      this.messages++;
      this.tickMessages++;
      this.bytes += size;
      conn.completed++;
      this.lastMeasuredReply = t1;
    }
    if (t1 >= this.mode.measureStart && t1 < this.mode.windowEnd) this.repliesInWindow++;
  }

  private kill(conn: LoadConnection, kind: keyof ErrorCounts | null, what: string): void {
    if (kind) this.errors[kind]++;
    this.firstError ??= what;
    raw.vlsb_close(conn.handle);
    this.state[conn.index] = DEAD;
    this.live--;
    this.inflight -= conn.ring.outstanding;
    this.queued -= this.mode.pending(conn);
    this.mode.onKill(conn);
  }

  private interest(conn: LoadConnection, out: boolean): void {
    if (conn.wantOut === out) return;
    conn.wantOut = out;
    raw.vlsb_epoll_ctl(this.o.ep, EPOLL_CTL_MOD, conn.handle, out ? EPOLLIN | EPOLLOUT : EPOLLIN, conn.index);
  }

  /** Picks conn's next message if one may start now: its selection time, or -1. */
  private select(conn: LoadConnection): number {
    const ring = conn.ring;
    if (ring.outstanding >= this.depth || !ring.hasRoom()) return -1;
    const t = this.mode.select(conn, this);
    if (t < 0) return -1;
    conn.writing = true;
    conn.selectedNs = t;
    conn.added = false;
    conn.off = 0;
    conn.size = messageSize(this.init.sizeLo, this.init.sizeHi, conn.global, ring.next);
    return t;
  }

  /** The first byte of conn's message went at t: it is in flight now. */
  private firstByte(conn: LoadConnection, t: number): void {
    conn.ring.add(t, this.mode.measuredAt(conn, conn.ring.next, t));
    conn.added = true;
    this.queued--;
    this.inflight++;
    if (t >= this.mode.measureStart) {
      if (t < this.mode.windowEnd) this.sentInWindow++;
      const ms = Math.floor(t / 1e6);
      if (ms === this.curMs) this.curMsCount++;
      else {
        if (this.curMsCount > this.peakMs) this.peakMs = this.curMsCount;
        this.curMs = ms;
        this.curMsCount = 1;
      }
    }
  }

  /** Writes what conn may write now, until the socket is full or nothing may go. */
  private trySend(conn: LoadConnection): void {
    const h = conn.handle;
    const pattern = this.pattern;
    for (;;) {
      let t = 0;
      if (!conn.writing) {
        t = this.select(conn);
        if (t < 0) return this.interest(conn, false);
      } else if (conn.off === 0) t = raw.vlsb_now_ns();
      const off = conn.off;
      const size = conn.size;
      writeHeader(pattern, conn.global, conn.writingSeq());
      const w = off === 0 ? raw.vlsb_write(h, pattern, size) : raw.vlsb_write(h, pattern.subarray(off), size - off);
      if (w > 0) {
        if (off === 0) this.firstByte(conn, t);
        conn.off = off + w;
        conn.sentBytes += w;
        if (off + w < size) return this.interest(conn, true);
        conn.writing = false;
      } else if (w === -Errno.EAGAIN) {
        return this.interest(conn, true);
      } else {
        return this.kill(conn, writeErrorKind(-w), `write: ${errnoName(-w)}`);
      }
    }
  }

  /** Reads and checks what conn's server echoed, then sends what may go. */
  private readMore(conn: LoadConnection): void {
    const h = conn.handle;
    const ring = conn.ring;
    const checker = conn.checker;
    for (;;) {
      const r = raw.vlsb_read(h, this.rbuf, READ_BUF);
      if (r > 0) {
        const t1 = (this.t1 = raw.vlsb_now_ns());
        if (t1 >= this.tickEnd) this.flushTicks(t1);
        conn.recvBytes += r;
        if (conn.recvBytes > conn.sentBytes) {
          this.integrity.corrupt++;
          return this.kill(conn, null, `verify: connection ${conn.global} echoed bytes that were never sent`);
        }
        const before = ring.outstanding;
        checker.feed(this.rb, r);
        this.inflight += ring.outstanding - before;
        if (checker.fatal) return this.kill(conn, null, `verify: connection ${conn.global}: ${checker.fatal}`);
        if (r < READ_BUF) break;
        continue;
      }
      if (r === -Errno.EAGAIN) break;
      if (r === 0) return this.kill(conn, "read", `read: connection ${conn.global} closed by the server`);
      return this.kill(conn, "read", `read: ${errnoName(-r)}`);
    }
    this.trySend(conn);
  }

  private checkTimeouts(now: number): void {
    const { timeoutSec, connectTimeoutSec } = this.init;
    for (const conn of this.conns) {
      const s = this.state[conn.index];
      if (s === ACTIVE) {
        const oldest = conn.ring.oldestSentAt();
        if (oldest >= 0 && now - oldest > timeoutSec * 1e9) this.kill(conn, "timeout", `timeout: connection ${conn.global} waited ${timeoutSec}s for an echo`);
        else if (conn.writing && !conn.added && now - conn.selectedNs > timeoutSec * 1e9) this.kill(conn, "timeout", `timeout: connection ${conn.global} could not write for ${timeoutSec}s`);
      } else if (s === CONNECTING && now - this.o.connectStartNs[conn.index] > connectTimeoutSec * 1e9) {
        this.kill(conn, "connect", `connect: timed out after ${connectTimeoutSec}s`);
      }
    }
  }

  sendAll(): void {
    for (const conn of this.conns) if (this.state[conn.index] === ACTIVE) this.trySend(conn);
  }

  readonly onDue = (c: number, n: number): void => {
    if (this.state[c] === DEAD) return;
    const conn = this.conns[c];
    conn.due += n;
    this.queued += n;
    if (this.state[c] === ACTIVE && !conn.writing) this.trySend(conn);
  };

  /** Handles one epoll event of connection c. */
  private onEvent(c: number, ev: number): void {
    const s = this.state[c];
    if (s === DEAD) return;
    const conn = this.conns[c];
    if (s === CONNECTING) {
      if (ev & (EPOLLERR | EPOLLHUP)) return this.kill(conn, "connect", `connect: refused, unreachable or reset (${this.init.host}:${this.init.port})`);
      this.state[c] = ACTIVE;
      return this.trySend(conn);
    }
    if (ev & EPOLLOUT && conn.writing) this.trySend(conn);
    if (this.state[c] !== DEAD && ev & (EPOLLIN | EPOLLERR | EPOLLHUP)) this.readMore(conn);
  }

  /** Runs until every message is echoed or the drain deadline passes. */
  run(): LoadWorkerResult {
    const { init, mode, evs } = this;
    const drainDeadline = mode.windowEnd + init.timeoutSec * 1e9;
    const sleeper = new Int32Array(new SharedArrayBuffer(4));
    const plan: WaitPlan = { sleepMs: 0, epollMs: 0 };
    let nextCheck = 0;
    for (;;) {
      const now = raw.vlsb_now_ns();
      if (now >= this.tickEnd) this.flushTicks(now);
      if (now >= nextCheck) {
        nextCheck = now + 50e6;
        this.checkTimeouts(now);
      }
      mode.advance(now, this);
      if (this.live === 0) break;
      if (mode.done() && this.queued === 0 && this.inflight === 0) break;
      if (now > drainDeadline) {
        for (const conn of this.conns)
          if (this.state[conn.index] !== DEAD && (conn.ring.outstanding > 0 || mode.pending(conn) > 0)) this.kill(conn, "timeout", `timeout: connection ${conn.global} still waiting ${init.timeoutSec}s after the end`);
        break;
      }
      planWait(mode.nextSendNs(now, this) - now, this.inflight > 0 || this.queued > 0, plan);
      if (plan.sleepMs > 0) Atomics.wait(sleeper, 0, 0, plan.sleepMs);
      const n = raw.vlsb_epoll_wait(this.o.ep, evs, MAX_EVENTS, plan.epollMs);
      if (n < 0) {
        if (n === -Errno.EINTR) continue;
        this.firstError ??= `epoll_wait: ${errnoName(-n)}`;
        continue;
      }
      for (let k = 0; k < n; k++) this.onEvent(evs[2 * k + 1], evs[2 * k]);
    }
    return this.finish();
  }

  /** Closes everything and sums the result up. */
  private finish(): LoadWorkerResult {
    const end = raw.vlsb_now_ns();
    this.flushTick(end);
    for (const conn of this.conns) if (this.state[conn.index] !== DEAD) raw.vlsb_close(conn.handle);
    raw.vlsb_close(this.o.ep);
    const integrity = this.integrity;
    for (const { checker: k, ring: r } of this.conns) {
      integrity.corrupt += k.corrupt;
      integrity.duplicated += k.duplicated;
      integrity.reordered += k.reordered;
      integrity.lost += r.lost + r.missing;
    }
    this.errors.verify = integrity.lost + integrity.corrupt + integrity.duplicated + integrity.reordered;
    const measuredNs = this.mode.measuredNs(end, this.lastMeasuredReply);
    return {
      id: this.init.id,
      connections: this.init.connections,
      messages: this.messages,
      bytes: this.bytes,
      errors: this.errors,
      integrity,
      perConnection: this.conns.map((c) => c.completed),
      lag: this.lag ? this.lag.drain() : null,
      sentInWindow: this.sentInWindow,
      repliesInWindow: this.repliesInWindow,
      peakSendsPerMs: Math.max(this.peakMs, this.curMsCount),
      firstError: this.firstError,
      measuredNs: Math.max(0, measuredNs),
      windowNs: this.mode.windowSec * 1e9,
    };
  }
}
