/**
 * The closed loop of one load worker: C connections, each keeping one
 * message in flight. Timestamps come from the native monotonic clock
 * (vlsb_now_ns) taken around the I/O: t0 just before the first write of a
 * message, t1 just after the read that completes its echo.
 *
 * Every echoed byte is compared with what was sent, as it arrives. Errors
 * end the connection and are counted by kind; the run goes on with the
 * connections left, and ends early when none is left.
 */
import { raw } from "../native/ffi.ts";
import { Errno, errnoName } from "../native/errno.ts";
import { encodeEndpoint, EPOLLIN, EPOLLOUT, EPOLLERR, EPOLLHUP, EPOLL_CTL_ADD, EPOLL_CTL_MOD } from "../native/vls.ts";
import { fillMessage, initMessage } from "./message.ts";
import { newHistogram, encodeHistogram } from "./histogram.ts";
import { noErrors, type LoadWorkerInit, type LoadWorkerResult, type ErrorCounts } from "./protocol.ts";

const CONNECTING = 0;
const ACTIVE = 1;
const DEAD = 2;
const MAX_EVENTS = 256;
const READ_BUF = 64 * 1024;

/** Connections opened, waiting for the start signal. */
export interface OpenedConnections {
  ep: number;
  handles: number[];
  state: Uint8Array;
  connectStartNs: Float64Array;
  errors: ErrorCounts;
  firstError: string | null;
}

/** Opens the connections (non-blocking connects) of one worker. */
export function openConnections(init: LoadWorkerInit): OpenedConnections {
  const ep = raw.vlsb_epoll_create();
  if (ep < 0) throw new Error(`vlsb_epoll_create: ${errnoName(-ep)}`);
  const epBuf = encodeEndpoint({ host: init.host, port: init.port });
  const o: OpenedConnections = {
    ep, handles: [], state: new Uint8Array(init.connections), connectStartNs: new Float64Array(init.connections), errors: noErrors(), firstError: null,
  };
  for (let c = 0; c < init.connections; c++) {
    const h = raw.vlsb_create(0, 1);
    o.handles.push(h);
    o.connectStartNs[c] = raw.vlsb_now_ns();
    const rv = h < 0 ? h : raw.vlsb_connect(h, epBuf);
    if ((rv !== 0 && rv !== -Errno.EINPROGRESS) || raw.vlsb_epoll_ctl(ep, EPOLL_CTL_ADD, h, EPOLLOUT | EPOLLIN, c) < 0) {
      o.errors.connect++;
      o.firstError ??= `connect: ${errnoName(-rv)}`;
      if (h >= 0) raw.vlsb_close(h);
      o.state[c] = DEAD;
    }
  }
  return o;
}

/** Runs warm-up + measurement from startNs; returns the worker's result. */
export function runClosedLoop(init: LoadWorkerInit, o: OpenedConnections): LoadWorkerResult {
  const { ep, handles, state, connectStartNs, errors } = o;
  const C = init.connections;
  const size = init.size;
  const hist = newHistogram();
  const evs = new Uint32Array(new ArrayBuffer(8 * MAX_EVENTS));
  const rbuf = new Uint8Array(new ArrayBuffer(READ_BUF));
  const rb = Buffer.from(rbuf.buffer);
  const msgs: Uint8Array[] = [];
  const mbs: Buffer[] = [];
  const sentOff = new Int32Array(C);
  const recvOff = new Int32Array(C);
  const seq = new Uint32Array(C);
  const t0 = new Float64Array(C);
  const wantOut = new Uint8Array(C);
  const perConnection = new Array<number>(C).fill(0);
  for (let c = 0; c < C; c++) {
    const m = new Uint8Array(new ArrayBuffer(size));
    initMessage(m, c + init.id * 65536);
    msgs.push(m);
    mbs.push(Buffer.from(m.buffer));
  }
  let live = 0;
  for (let c = 0; c < C; c++) if (state[c] !== DEAD) live++;
  let messages = 0;
  let firstError = o.firstError;
  const measureStart = init.startNs + init.warmupSec * 1e9;
  const end = measureStart + init.durationSec * 1e9;
  const timeoutNs = init.timeoutSec * 1e9;
  const connectTimeoutNs = init.connectTimeoutSec * 1e9;
  let lastReplyNs = measureStart;

  const kill = (c: number, kind: keyof ErrorCounts, what: string) => {
    errors[kind]++;
    firstError ??= what;
    raw.vlsb_close(handles[c]);
    state[c] = DEAD;
    live--;
  };

  const interest = (c: number, out: boolean) => {
    if ((wantOut[c] === 1) === out) return;
    wantOut[c] = out ? 1 : 0;
    raw.vlsb_epoll_ctl(ep, EPOLL_CTL_MOD, handles[c], out ? EPOLLIN | EPOLLOUT : EPOLLIN, c);
  };

  const sendMore = (c: number) => {
    const m = msgs[c];
    const off = sentOff[c];
    const w = off === 0 ? raw.vlsb_write(handles[c], m, size) : raw.vlsb_write(handles[c], m.subarray(off), size - off);
    if (w > 0) {
      sentOff[c] = off + w;
      interest(c, off + w < size);
    } else if (w === -Errno.EAGAIN) {
      interest(c, true);
    } else {
      kill(c, "write", `write: ${errnoName(-w)}`);
    }
  };

  const startMessage = (c: number, now: number) => {
    seq[c]++;
    fillMessage(msgs[c], c + init.id * 65536, seq[c]);
    sentOff[c] = 0;
    recvOff[c] = 0;
    t0[c] = now;
    sendMore(c);
  };

  const readMore = (c: number) => {
    const h = handles[c];
    for (;;) {
      const want = size - recvOff[c];
      const r = raw.vlsb_read(h, rbuf, want < READ_BUF ? want : READ_BUF);
      if (r > 0) {
        const off = recvOff[c];
        if (rb.compare(mbs[c], off, off + r, 0, r) !== 0) return kill(c, "verify", `verify: connection ${c} message ${seq[c]} differs at byte ${off}..${off + r}`);
        if (off + r > sentOff[c]) return kill(c, "verify", `verify: connection ${c} echoed bytes never sent`);
        recvOff[c] = off + r;
        if (off + r === size) {
          const t1 = raw.vlsb_now_ns();
          if (t1 >= measureStart && t1 < end) {
            hist.recordValue(Math.max(1, Math.round(t1 - t0[c])));
            messages++;
            perConnection[c]++;
            lastReplyNs = t1;
          }
          if (t1 < end) startMessage(c, raw.vlsb_now_ns());
          return;
        }
        continue;
      }
      if (r === -Errno.EAGAIN) return;
      if (r === 0) return kill(c, "read", `read: connection ${c} closed by the server`);
      return kill(c, "read", `read: ${errnoName(-r)}`);
    }
  };

  let nextCheck = 0;
  for (;;) {
    const now = raw.vlsb_now_ns();
    if (now >= end || live === 0) break;
    if (now >= nextCheck) {
      nextCheck = now + 50e6;
      for (let c = 0; c < C; c++) {
        if (state[c] === ACTIVE && recvOff[c] < size && now - t0[c] > timeoutNs) kill(c, "timeout", `timeout: connection ${c} waited ${init.timeoutSec}s for an echo`);
        else if (state[c] === CONNECTING && now - connectStartNs[c] > connectTimeoutNs) kill(c, "connect", `connect: timed out after ${init.connectTimeoutSec}s`);
      }
    }
    const n = raw.vlsb_epoll_wait(ep, evs, MAX_EVENTS, 5);
    if (n < 0) {
      if (n === -Errno.EINTR) break;
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
        wantOut[c] = 1;
        interest(c, false);
        startMessage(c, raw.vlsb_now_ns());
        continue;
      }
      if (ev & EPOLLOUT && sentOff[c] < size) sendMore(c);
      if (state[c] !== DEAD && ev & (EPOLLIN | EPOLLERR | EPOLLHUP)) readMore(c);
    }
  }
  for (let c = 0; c < C; c++) if (state[c] !== DEAD) raw.vlsb_close(handles[c]);
  raw.vlsb_close(ep);
  return {
    id: init.id,
    messages,
    bytes: messages * size,
    errors,
    perConnection,
    histogram: encodeHistogram(hist),
    firstError,
    measuredNs: Math.max(0, Math.min(end, Math.max(lastReplyNs, raw.vlsb_now_ns())) - measureStart),
  };
}
