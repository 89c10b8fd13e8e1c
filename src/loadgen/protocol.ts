/** Typed messages between the load generator's main thread and its workers. */

/** Errors counted by kind; none is ever dropped silently. */
export interface ErrorCounts {
  /** connect failed, was refused, or timed out */
  connect: number;
  /** reset, unexpected end of stream, or a failed read */
  read: number;
  /** a failed write */
  write: number;
  /** echoed bytes differ from what was sent (mismatch, or extra bytes) */
  verify: number;
  /** no complete echo within the message timeout */
  timeout: number;
}

/** What a load worker is started with (workerData). */
export interface LoadWorkerInit {
  id: number;
  host: string;
  port: number;
  connections: number;
  size: number;
  warmupSec: number;
  durationSec: number;
  timeoutSec: number;
  connectTimeoutSec: number;
  /** Absolute start time on the native monotonic clock (ns). */
  startNs: number;
}

/** One worker's results, sent once at the end. */
export interface LoadWorkerResult {
  id: number;
  messages: number;
  bytes: number;
  errors: ErrorCounts;
  /** Completed messages per connection (starved connections show as 0). */
  perConnection: number[];
  /** hdr-histogram-js compressed base64, values in ns. */
  histogram: string;
  /** First error seen, with its errno name, for the report. */
  firstError: string | null;
  /** Time actually measured (ns), from the end of warm-up to the last reply. */
  measuredNs: number;
}

export type FromLoadWorker = { type: "result"; result: LoadWorkerResult } | { type: "error"; id: number; message: string };

/** A fresh zeroed ErrorCounts. */
export function noErrors(): ErrorCounts {
  return { connect: 0, read: 0, write: 0, verify: 0, timeout: 0 };
}
