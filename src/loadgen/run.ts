/**
 * One load run: start the workers, let them connect, give them a common
 * start time, merge their per-second ticks as they come, and summarise.
 */
import { raw } from "../native/ffi.ts";
import type * as hdr from "hdr-histogram-js";
import { summarise, encodeHistogram, newHistogram, type LatencyUs } from "../common/histogram.ts";
import { addSparse } from "./histogram.ts";
import { IntervalMerger, type Interval } from "./intervals.ts";
import { measuredRange } from "./schedule.ts";
import { CpuWindow, type CpuReport } from "./cpu.ts";
import { noErrors, noIntegrity, type ErrorCounts, type IntegrityCounts, type LoadWorkerInit, type LoadWorkerResult } from "./protocol.ts";
import { runWorkers } from "./worker-pool.ts";

/** Load parameters. */
export interface LoadConfig {
  host: string;
  port: number;
  connections: number;
  workers: number;
  /** Message size; with sizeMax, the smallest of a uniform draw in [size, sizeMax]. */
  size: number;
  sizeMax?: number;
  warmupSec: number;
  durationSec: number;
  timeoutSec: number;
  connectTimeoutSec: number;
  /** Open loop at this many messages per second in total; closed loop when absent. */
  rate?: number | null;
  /** Messages in flight per connection: closed loop (default 1), or the open loop's cap (default none). */
  pipeline?: number;
  /** Measure this many messages instead of --duration. */
  count?: number | null;
  /** Keep every interval's encoded histograms (for an interval log). */
  keepIntervals?: boolean;
  /** Called once per measured second, with that second's corrected histogram (ns). */
  onInterval?: (iv: Interval, corrected: hdr.Histogram) => void;
  /** The server's pid when bench started it: its CPU (and its children's) is measured too. */
  serverPid?: number | null;
}

/** min/median/max completed messages per connection, and how many completed none. */
export interface PerConnection {
  min: number;
  median: number;
  max: number;
  starved: number;
}

/** Latency summary; in open loop the top-level figures are the corrected ones. */
export type LatencyReport = LatencyUs & { corrected?: LatencyUs; uncorrected?: LatencyUs };

/** The merged result of a run. */
export interface LoadResult {
  durationSec: number;
  messages: number;
  msgsPerSec: number;
  bytesPerSec: number;
  errors: ErrorCounts;
  integrity: IntegrityCounts;
  latencyUs: LatencyReport;
  /** Corrected histogram (ns), compressed base64. */
  histogram: string;
  /** Open loop: the uncorrected histogram. */
  histogramUncorrected?: string;
  /** msgs/s: asked (open loop, else null), first bytes written and echoes completed within the window. */
  rate: { asked: number | null; sent: number; achieved: number };
  /** Open loop: send time minus intended time, and the most sends in one millisecond. */
  pacing: { lagUs: LatencyUs; peakSendsPerMs: number } | null;
  perConnection: PerConnection;
  /** Messages completed per connection, in connection order (for the HTML page; not in the JSON). */
  connectionMessages?: number[];
  perWorker: { id: number; connections: number; messages: number; errors: number; perConnection: PerConnection }[];
  firstError: string | null;
  /** Load workers that failed after the start, one line each (their share is missing from the figures). */
  workerFailures: string[];
  /** Wall-clock time (ms since the epoch) of the start of the measurement. */
  startEpochMs: number;
  /** Every measured second (the last one up to the end of the drain). */
  intervals: Interval[];
  /** The merged histograms, for outputs (hgrm). */
  histograms: { corrected: hdr.Histogram; uncorrected: hdr.Histogram | null };
  /** CPU time per message over the measured window (src/loadgen/cpu.ts). */
  cpu: CpuReport | null;
}

/** Splits n connections over w workers as evenly as possible. */
export function split(n: number, w: number): number[] {
  return Array.from({ length: w }, (_, i) => Math.floor(n / w) + (i < n % w ? 1 : 0));
}

/** min/median/max/starved of per-connection counts. */
export function perConnectionSummary(counts: number[]): PerConnection {
  const s = [...counts].sort((a, b) => a - b);
  return { min: s[0] ?? 0, median: s[Math.floor(s.length / 2)] ?? 0, max: s[s.length - 1] ?? 0, starved: s.filter((x) => x === 0).length };
}

/** Total of all error kinds (integrity failures are in verify). */
export function errorTotal(e: ErrorCounts): number {
  return e.connect + e.read + e.write + e.verify + e.timeout;
}

/** Time the workers have to open their connections, beyond --connect-timeout (a Worker's start is slow on a loaded machine). */
const STARTUP_SLACK_MS = 30_000;

/** Runs the load; resolves when every worker has reported, rejects if one cannot start. */
export async function runLoad(cfg: LoadConfig): Promise<LoadResult> {
  const shares = split(cfg.connections, Math.min(cfg.workers, cfg.connections)).filter((c) => c > 0);
  const rate = cfg.rate ?? 0;
  const range = rate > 0 ? measuredRange(rate, cfg.warmupSec, cfg.durationSec, cfg.count ?? null) : { g0: 0, g1: 0 };
  let merger: IntervalMerger | null = null;
  let startEpochMs = Date.now();
  let connBase = 0;
  const inits = shares.map((connections, id): LoadWorkerInit => {
    const init: LoadWorkerInit = {
      id, host: cfg.host, port: cfg.port, connections, connBase, totalConnections: cfg.connections, sizeLo: cfg.size, sizeHi: cfg.sizeMax ?? cfg.size,
      rate, pipeline: cfg.pipeline ?? (rate > 0 ? 0 : 1), g0: range.g0, g1: range.g1, count: rate > 0 ? 0 : (cfg.count ?? 0),
      warmupSec: cfg.warmupSec, durationSec: cfg.durationSec, timeoutSec: cfg.timeoutSec, connectTimeoutSec: cfg.connectTimeoutSec, startNs: 0,
    };
    connBase += connections;
    return init;
  });
  const cpu = new CpuWindow(cfg.serverPid ?? null, () => raw.vlsb_now_ns());
  let cpuSpan: { startNs: number; endNs: number } | null = null;
  const timers: ReturnType<typeof setTimeout>[] = [];
  const { results, failures } = await runWorkers(inits, {
    startupTimeoutMs: cfg.connectTimeoutSec * 1000 + STARTUP_SLACK_MS,
    onStart: (startNs) => {
      const measureStartNs = startNs + cfg.warmupSec * 1e9;
      startEpochMs = Date.now() + (measureStartNs - raw.vlsb_now_ns()) / 1e6;
      merger = new IntervalMerger(shares.length, measureStartNs, cfg.keepIntervals ?? false, cfg.onInterval ?? null);
      // CPU is sampled at the window's edges (timers of this thread, idle
      // but for ticks); a --count window ends with the results.
      const startMs = (measureStartNs - raw.vlsb_now_ns()) / 1e6;
      if (!cfg.count) cpuSpan = { startNs: measureStartNs, endNs: measureStartNs + cfg.durationSec * 1e9 };
      timers.push(setTimeout(() => cpu.start(), startMs));
      if (!cfg.count) timers.push(setTimeout(() => cpu.end(), startMs + cfg.durationSec * 1e3));
    },
    onTick: (t) => merger!.add(t),
  });
  cpu.end();
  for (const t of timers) clearTimeout(t);
  if (failures.length && !results.length) throw new Error(failures.join("; "));
  const m = merger ?? new IntervalMerger(1, 0, false, null);
  const r = summariseRun(cfg, results, m, failures, startEpochMs);
  r.cpu = cpu.report(r.messages, cpuSpan);
  return r;
}

/** Error and integrity counts summed over runs (workers, or a sweep's rows). */
export function sumCounts(runs: { errors: ErrorCounts; integrity: IntegrityCounts }[]): { errors: ErrorCounts; integrity: IntegrityCounts } {
  const errors = noErrors();
  const integrity = noIntegrity();
  for (const r of runs) {
    for (const k of Object.keys(errors) as (keyof ErrorCounts)[]) errors[k] += r.errors[k];
    for (const k of Object.keys(integrity) as (keyof IntegrityCounts)[]) integrity[k] += r.integrity[k];
  }
  return { errors, integrity };
}

type Histogram = ReturnType<typeof newHistogram>;

/** Throughput and latency of a measured window: the corrected histogram, and the uncorrected one in open loop (null in closed loop). */
export function measuredFigures(messages: number, bytes: number, durationSec: number, corrected: Histogram, uncorrected: Histogram | null) {
  const c = summarise(corrected);
  const latencyUs: LatencyReport = uncorrected ? { ...c, corrected: c, uncorrected: summarise(uncorrected) } : c;
  return {
    durationSec,
    messages,
    msgsPerSec: messages / durationSec,
    bytesPerSec: bytes / durationSec,
    latencyUs,
    histogram: encodeHistogram(corrected),
    ...(uncorrected ? { histogramUncorrected: encodeHistogram(uncorrected) } : {}),
  };
}

function summariseRun(cfg: LoadConfig, results: LoadWorkerResult[], m: IntervalMerger, failures: string[], startEpochMs: number): LoadResult {
  const open = (cfg.rate ?? 0) > 0;
  const { errors, integrity } = sumCounts(results);
  const intervals = m.finish();
  const messages = results.reduce((a, r) => a + r.messages, 0);
  const bytes = results.reduce((a, r) => a + r.bytes, 0);
  const durationSec = Math.max(1e-9, ...results.map((r) => r.measuredNs / 1e9));
  const windowSec = Math.max(1e-9, ...results.map((r) => r.windowNs / 1e9));
  let pacing: LoadResult["pacing"] = null;
  if (open) {
    const lag = newHistogram();
    for (const r of results) if (r.lag) addSparse(lag, r.lag);
    pacing = { lagUs: summarise(lag), peakSendsPerMs: results.reduce((a, r) => a + r.peakSendsPerMs, 0) };
  }
  return {
    ...measuredFigures(messages, bytes, durationSec, m.corrected, open ? m.uncorrected : null),
    errors,
    integrity,
    rate: {
      asked: open ? cfg.rate! : null,
      sent: results.reduce((a, r) => a + r.sentInWindow, 0) / windowSec,
      achieved: results.reduce((a, r) => a + r.repliesInWindow, 0) / windowSec,
    },
    pacing,
    perConnection: perConnectionSummary(results.flatMap((r) => r.perConnection)),
    connectionMessages: [...results].sort((a, b) => a.id - b.id).flatMap((r) => r.perConnection),
    perWorker: results
      .sort((a, b) => a.id - b.id)
      .map((r) => ({ id: r.id, connections: r.connections, messages: r.messages, errors: errorTotal(r.errors), perConnection: perConnectionSummary(r.perConnection) })),
    firstError: failures[0] ?? results.find((r) => r.firstError)?.firstError ?? null,
    workerFailures: failures,
    startEpochMs,
    intervals,
    histograms: { corrected: m.corrected, uncorrected: open ? m.uncorrected : null },
    cpu: null,
  };
}
