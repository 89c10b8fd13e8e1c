/** Typed messages between the load generator's main thread and its workers. */
import type { SparseCounts } from "./recorder.ts";

/** Errors counted by kind; none is ever dropped silently. */
export interface ErrorCounts {
  /** connect failed, was refused, or timed out */
  connect: number;
  /** reset (seen by a read or a write), unexpected end of stream, or a failed read */
  read: number;
  /** a failed write */
  write: number;
  /** integrity failures: lost + corrupt + duplicated + reordered (see IntegrityCounts) */
  verify: number;
  /** no complete echo within the message timeout */
  timeout: number;
}

/** Integrity failures by kind, one count per message. */
export interface IntegrityCounts {
  /** sent, skipped over by a later echo, and never echoed */
  lost: number;
  /** echoed with different bytes (or bytes that were never sent) */
  corrupt: number;
  /** echoed again after its first echo */
  duplicated: number;
  /** echoed after a message sent later than it */
  reordered: number;
}

/** What a load worker is started with (workerData). */
export interface LoadWorkerInit {
  id: number;
  host: string;
  port: number;
  /** Connections of this worker. */
  connections: number;
  /** Global index of this worker's first connection. */
  connBase: number;
  /** Connections of the whole run. */
  totalConnections: number;
  /** Message sizes: fixed when equal, else uniform in [sizeLo, sizeHi]. */
  sizeLo: number;
  sizeHi: number;
  /** Messages per second for the whole run (open loop), or 0 (closed loop). */
  rate: number;
  /** Messages in flight per connection at most; 0 = unbounded (open loop only). */
  pipeline: number;
  /** Open loop: global message indexes [g0, g1) are measured. */
  g0: number;
  g1: number;
  /** Closed loop with --count: measured messages of the whole run, else 0. */
  count: number;
  warmupSec: number;
  durationSec: number;
  timeoutSec: number;
  connectTimeoutSec: number;
  /** Absolute start time on the native monotonic clock (ns). */
  startNs: number;
}

/** One second (the last one: the rest) of one worker's measurement. */
export interface WorkerTick {
  type: "tick";
  id: number;
  index: number;
  startNs: number;
  endNs: number;
  messages: number;
  /** Errors of every kind so far (cumulative). */
  errors: number;
  /** Latency from the intended send time (closed loop: the send time). */
  corrected: SparseCounts;
  /** Open loop: latency from the actual send time. */
  uncorrected: SparseCounts | null;
}

/** One worker's results, sent once at the end (after its last tick). */
export interface LoadWorkerResult {
  id: number;
  connections: number;
  messages: number;
  bytes: number;
  errors: ErrorCounts;
  integrity: IntegrityCounts;
  /** Completed messages per connection (starved connections show as 0). */
  perConnection: number[];
  /** Open loop: first byte written minus intended time, per measured message. */
  lag: SparseCounts | null;
  /** Messages whose first byte was written within the measured window. */
  sentInWindow: number;
  /** Echoes completed within the measured window. */
  repliesInWindow: number;
  /** Most first bytes written within one millisecond (after warm-up). */
  peakSendsPerMs: number;
  /** First error seen, with its errno name, for the report. */
  firstError: string | null;
  /** Time actually measured (ns). */
  measuredNs: number;
  /** The measured window: the schedule's in open loop, else the duration. */
  windowNs: number;
}

/** Everything a load worker posts to the main thread. */
export type FromLoadWorker = WorkerTick | { type: "connected"; id: number } | { type: "result"; result: LoadWorkerResult } | { type: "error"; id: number; message: string };

/** A fresh zeroed ErrorCounts. */
export function noErrors(): ErrorCounts {
  return { connect: 0, read: 0, write: 0, verify: 0, timeout: 0 };
}

/** A fresh zeroed IntegrityCounts. */
export function noIntegrity(): IntegrityCounts {
  return { lost: 0, corrupt: 0, duplicated: 0, reordered: 0 };
}
