/**
 * The loop of one load worker over its connections, closed or open loop.
 *
 * Closed loop: each connection keeps `pipeline` messages in flight; a reply
 * lets the next one go. Open loop: messages are due on the schedule
 * (schedule.ts) whatever the replies, and are written as soon as they are
 * due, unless the connection already has `pipeline` in flight (0: no limit)
 * or the socket is full; then they wait in the client and keep their
 * intended time. Nothing is sent before the common start time.
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
import { InFlight } from "./inflight.ts";
import { EchoChecker } from "./echo-checker.ts";
import { Recorder } from "./recorder.ts";
import { Schedule, planWait, type WaitPlan } from "./schedule.ts";
import { noIntegrity, type LoadWorkerInit, type LoadWorkerResult, type ErrorCounts, type WorkerTick } from "./protocol.ts";

const MAX_EVENTS = 256;
const READ_BUF = 64 * 1024;
/** Most messages in flight on one connection. */
export const RING_MAX = 65536;

/** Runs warm-up, measurement and drain; posts a tick per second; returns the worker's result. */
export function runLoop(init: LoadWorkerInit, o: OpenedConnections, post: (t: WorkerTick) => void): LoadWorkerResult {
  const { ep, handles, state, connectStartNs, errors } = o;
  const C = init.connections;
  const open = init.rate > 0;
  const depth = init.pipeline > 0 ? init.pipeline : Infinity;
  const countMode = !open && init.count > 0;
  const measureStart = init.startNs + init.warmupSec * 1e9;
  const sched = open ? new Schedule(init.startNs, init.rate, init.totalConnections, init.connBase, C, init.g1) : null;
  const windowEnd = sched ? init.startNs + init.g1 * sched.periodNs : countMode ? Infinity : measureStart + init.durationSec * 1e9;
  const windowSec = sched ? ((init.g1 - init.g0) * sched.periodNs) / 1e9 : init.durationSec;
  const drainDeadline = windowEnd + init.timeoutSec * 1e9;
  const timeoutNs = init.timeoutSec * 1e9;
  const connectTimeoutNs = init.connectTimeoutSec * 1e9;
  const lastBoundary = countMode ? Infinity : Math.ceil(windowSec - 1e-9) - 1;

  const pattern = Buffer.from(newPattern(init.sizeHi, init.id).buffer);
  const evs = new Uint32Array(new ArrayBuffer(8 * MAX_EVENTS));
  const rbuf = new Uint8Array(new ArrayBuffer(READ_BUF));
  const rb = Buffer.from(rbuf.buffer);
  const corrected = new Recorder();
  const uncorrected = open ? new Recorder() : null;
  const lag = open ? new Recorder() : null;

  const rings: InFlight[] = [];
  const checkers: EchoChecker[] = [];
  const due = new Float64Array(C);
  const writing = new Uint8Array(C);
  const wAdded = new Uint8Array(C);
  const wMeasured = new Uint8Array(C);
  const wOff = new Int32Array(C);
  const wSize = new Int32Array(C);
  const sentBytes = new Float64Array(C);
  const recvBytes = new Float64Array(C);
  const wantOut = new Uint8Array(C).fill(1);
  const measuredSent = new Float64Array(C);
  const quota = new Float64Array(C);
  const perConnection = new Array<number>(C).fill(0);
  const integrity = noIntegrity();

  let firstError = o.firstError;
  let live = 0;
  let messages = 0;
  let bytes = 0;
  let inflight = 0;
  let queued = 0;
  let quotaLeft = 0;
  let stopped = false;
  let started = open;
  let t1 = 0;
  let lastMeasuredReply = measureStart;
  let sentInWindow = 0;
  let repliesInWindow = 0;
  let peakMs = 0;
  let curMs = -1;
  let curMsCount = 0;
  let tickIndex = 0;
  let tickMessages = 0;
  let tickEnd = lastBoundary >= 1 ? measureStart + 1e9 : Infinity;

  for (let c = 0; c < C; c++) {
    const cg = init.connBase + c;
    const ring = new InFlight(open ? 8 : init.pipeline, RING_MAX);
    rings.push(ring);
    checkers.push(new EchoChecker(cg, ring, init.sizeLo, init.sizeHi, pattern, (seq, size) => onReply(c, seq, size)));
    if (countMode) quota[c] = Math.floor(init.count / init.totalConnections) + (cg < init.count % init.totalConnections ? 1 : 0);
    if (state[c] !== DEAD) {
      live++;
      if (quota[c] > 0) quotaLeft++;
    }
  }

  const errorTotal = () => {
    let n = errors.connect + errors.read + errors.write + errors.timeout + integrity.corrupt;
    for (const k of checkers) n += k.corrupt + k.duplicated + k.reordered;
    for (const r of rings) n += r.lost + r.missing;
    return n;
  };

  const flushTick = (endNs: number) => {
    post({ type: "tick", id: init.id, index: tickIndex, startNs: measureStart + tickIndex * 1e9, endNs, messages: tickMessages, errors: errorTotal(), corrected: corrected.drain(), uncorrected: uncorrected ? uncorrected.drain() : null });
    tickIndex++;
    tickMessages = 0;
    tickEnd = tickIndex + 1 <= lastBoundary ? measureStart + (tickIndex + 1) * 1e9 : Infinity;
  };
  const flushTicks = (now: number) => {
    while (now >= tickEnd) flushTick(tickEnd);
  };

  function onReply(c: number, seq: number, size: number) {
    const ring = rings[c];
    if (ring.measured(seq)) {
      const sent = ring.sentAt(seq);
      corrected.record(t1 - (sched ? sched.intendedNs(seq, c) : sent));
      uncorrected?.record(t1 - sent);
      messages++;
      tickMessages++;
      bytes += size;
      perConnection[c]++;
      lastMeasuredReply = t1;
    }
    if (t1 >= measureStart && t1 < windowEnd) repliesInWindow++;
  }

  const pending = (c: number) => (open ? due[c] - rings[c].next : writing[c] && !wAdded[c] ? 1 : 0);

  const kill = (c: number, kind: keyof ErrorCounts | null, what: string) => {
    if (kind) errors[kind]++;
    firstError ??= what;
    raw.vlsb_close(handles[c]);
    state[c] = DEAD;
    live--;
    inflight -= rings[c].outstanding;
    queued -= pending(c);
    if (countMode && measuredSent[c] < quota[c]) quotaLeft--;
  };

  const interest = (c: number, out: boolean) => {
    if ((wantOut[c] === 1) === out) return;
    wantOut[c] = out ? 1 : 0;
    raw.vlsb_epoll_ctl(ep, EPOLL_CTL_MOD, handles[c], out ? EPOLLIN | EPOLLOUT : EPOLLIN, c);
  };

  /** Picks the connection's next message if one may start now; sets selectedAt. */
  let selectedAt = 0;
  const select = (c: number): boolean => {
    const ring = rings[c];
    if (ring.outstanding >= depth || !ring.hasRoom()) return false;
    if (open) {
      if (ring.next >= due[c]) return false;
      wMeasured[c] = 0;
      selectedAt = raw.vlsb_now_ns();
    } else {
      if (stopped || !started) return false;
      const now = (selectedAt = raw.vlsb_now_ns());
      if (!countMode && now >= windowEnd) {
        stopped = true;
        return false;
      }
      const measured = now >= measureStart;
      if (countMode && measured && measuredSent[c] >= quota[c]) return false;
      if (countMode && measured && ++measuredSent[c] === quota[c]) quotaLeft--;
      wMeasured[c] = measured ? 1 : 0;
      queued++;
    }
    writing[c] = 1;
    wAdded[c] = 0;
    wOff[c] = 0;
    wSize[c] = messageSize(init.sizeLo, init.sizeHi, init.connBase + c, ring.next);
    return true;
  };

  const firstByte = (c: number, t: number) => {
    const ring = rings[c];
    const seq = ring.next;
    let measured = wMeasured[c] === 1;
    if (sched) {
      const g = sched.index(seq, c);
      measured = g >= init.g0 && g < init.g1;
      if (measured) lag!.record(t - sched.intendedNs(seq, c));
    }
    ring.add(t, measured);
    wAdded[c] = 1;
    queued--;
    inflight++;
    if (t >= measureStart) {
      if (t < windowEnd) sentInWindow++;
      const ms = Math.floor(t / 1e6);
      if (ms === curMs) curMsCount++;
      else {
        if (curMsCount > peakMs) peakMs = curMsCount;
        curMs = ms;
        curMsCount = 1;
      }
    }
  };

  const trySend = (c: number) => {
    const h = handles[c];
    for (;;) {
      let t = 0;
      if (!writing[c]) {
        if (!select(c)) return interest(c, false);
        t = selectedAt;
      } else if (wOff[c] === 0) t = raw.vlsb_now_ns();
      const off = wOff[c];
      const size = wSize[c];
      writeHeader(pattern, init.connBase + c, wAdded[c] ? rings[c].next - 1 : rings[c].next);
      const w = off === 0 ? raw.vlsb_write(h, pattern, size) : raw.vlsb_write(h, pattern.subarray(off), size - off);
      if (w > 0) {
        if (off === 0) firstByte(c, t);
        wOff[c] = off + w;
        sentBytes[c] += w;
        if (off + w < size) return interest(c, true);
        writing[c] = 0;
      } else if (w === -Errno.EAGAIN) {
        return interest(c, true);
      } else {
        return kill(c, "write", `write: ${errnoName(-w)}`);
      }
    }
  };

  const readMore = (c: number) => {
    const h = handles[c];
    const ring = rings[c];
    const checker = checkers[c];
    for (;;) {
      const r = raw.vlsb_read(h, rbuf, READ_BUF);
      if (r > 0) {
        t1 = raw.vlsb_now_ns();
        if (t1 >= tickEnd) flushTicks(t1);
        recvBytes[c] += r;
        if (recvBytes[c] > sentBytes[c]) {
          integrity.corrupt++;
          return kill(c, null, `verify: connection ${init.connBase + c} echoed bytes that were never sent`);
        }
        const before = ring.outstanding;
        checker.feed(rb, r);
        inflight += ring.outstanding - before;
        if (checker.fatal) return kill(c, null, `verify: connection ${init.connBase + c}: ${checker.fatal}`);
        if (r < READ_BUF) break;
        continue;
      }
      if (r === -Errno.EAGAIN) break;
      if (r === 0) return kill(c, "read", `read: connection ${init.connBase + c} closed by the server`);
      return kill(c, "read", `read: ${errnoName(-r)}`);
    }
    trySend(c);
  };

  const checkTimeouts = (now: number) => {
    for (let c = 0; c < C; c++) {
      if (state[c] === ACTIVE) {
        const oldest = rings[c].oldestSentAt();
        if (oldest >= 0 && now - oldest > timeoutNs) kill(c, "timeout", `timeout: connection ${init.connBase + c} waited ${init.timeoutSec}s for an echo`);
      } else if (state[c] === CONNECTING && now - connectStartNs[c] > connectTimeoutNs) {
        kill(c, "connect", `connect: timed out after ${init.connectTimeoutSec}s`);
      }
    }
  };

  /** n more of connection c's messages are due now. */
  const onDue = (c: number, n: number) => {
    if (state[c] === DEAD) return;
    due[c] += n;
    queued += n;
    if (state[c] === ACTIVE && !writing[c]) trySend(c);
  };

  const sleeper = new Int32Array(new SharedArrayBuffer(4));
  const plan: WaitPlan = { sleepMs: 0, epollMs: 0 };
  let nextCheck = 0;
  for (;;) {
    const now = raw.vlsb_now_ns();
    if (now >= tickEnd) flushTicks(now);
    if (now >= nextCheck) {
      nextCheck = now + 50e6;
      checkTimeouts(now);
    }
    if (sched) {
      sched.advanceTo(now, onDue);
    } else if (!started && now >= init.startNs) {
      started = true;
      for (let c = 0; c < C; c++) if (state[c] === ACTIVE) trySend(c);
    } else if (!countMode && !stopped && now >= windowEnd) {
      stopped = true;
    }
    if (live === 0) break;
    const scheduleDone = sched ? sched.nextNs === Infinity : countMode ? quotaLeft <= 0 : stopped;
    if (scheduleDone && queued === 0 && inflight === 0) break;
    if (now > drainDeadline) {
      for (let c = 0; c < C; c++) if (state[c] !== DEAD && (rings[c].outstanding > 0 || pending(c) > 0)) kill(c, "timeout", `timeout: connection ${init.connBase + c} still waiting ${init.timeoutSec}s after the end`);
      break;
    }
    // When the next scheduled message goes to a connection that already has
    // due messages it cannot send yet (window full, socket full, still
    // connecting), its time changes nothing: only a reply or writability
    // does, and epoll wakes on those. Wait on epoll then instead of polling,
    // so a generator far behind schedule does not take the CPU the server
    // needs (on 2 cores it made echoes inside the window 2x slower than in
    // the drain after it).
    const nextSendNs = !sched ? (started ? Infinity : init.startNs) : state[sched.j] === ACTIVE && pending(sched.j) === 0 ? sched.nextNs : now + 1.2e6 + 1;
    planWait(nextSendNs - now, inflight > 0 || queued > 0, plan);
    if (plan.sleepMs > 0) Atomics.wait(sleeper, 0, 0, plan.sleepMs);
    const n = raw.vlsb_epoll_wait(ep, evs, MAX_EVENTS, plan.epollMs);
    if (n < 0) {
      if (n === -Errno.EINTR) continue;
      firstError ??= `epoll_wait: ${errnoName(-n)}`;
      continue;
    }
    for (let k = 0; k < n; k++) {
      const c = evs[2 * k + 1];
      const ev = evs[2 * k];
      const s = state[c];
      if (s === DEAD) continue;
      if (s === CONNECTING) {
        if (ev & (EPOLLERR | EPOLLHUP)) {
          kill(c, "connect", `connect: refused or unreachable (${init.host}:${init.port})`);
          continue;
        }
        state[c] = ACTIVE;
        trySend(c);
        continue;
      }
      if (ev & EPOLLOUT && writing[c]) trySend(c);
      if (state[c] !== DEAD && ev & (EPOLLIN | EPOLLERR | EPOLLHUP)) readMore(c);
    }
  }
  const end = raw.vlsb_now_ns();
  flushTick(end);
  for (let c = 0; c < C; c++) if (state[c] !== DEAD) raw.vlsb_close(handles[c]);
  raw.vlsb_close(ep);
  for (const k of checkers) {
    integrity.corrupt += k.corrupt;
    integrity.duplicated += k.duplicated;
    integrity.reordered += k.reordered;
  }
  for (const r of rings) integrity.lost += r.lost + r.missing;
  errors.verify = integrity.lost + integrity.corrupt + integrity.duplicated + integrity.reordered;
  // Open loop: from the window's start to the last measured reply, which
  // may come after the window when the server fell behind (so msgs/s is
  // never more than was really echoed per second).
  const measuredNs = sched ? Math.max(windowSec * 1e9, lastMeasuredReply - measureStart) : countMode ? lastMeasuredReply - measureStart : Math.min(windowEnd, end) - measureStart;
  return {
    id: init.id,
    connections: C,
    messages,
    bytes,
    errors,
    integrity,
    perConnection,
    lag: lag ? lag.drain() : null,
    sentInWindow,
    repliesInWindow,
    peakSendsPerMs: Math.max(peakMs, curMsCount),
    firstError,
    measuredNs: Math.max(0, measuredNs),
    windowNs: windowSec * 1e9,
  };
}
