/** The bench report: the text table and the JSON document. */
import type { LatencyUs } from "../common/histogram.ts";
import type { LoadResult } from "./run.ts";
import type { SloOutcome } from "./slo.ts";
import { cpuLine, type CpuReport } from "./cpu.ts";

/** JSON schema version of `--json` output (fields were only added since 1). */
export const REPORT_VERSION = 1;

/** A run's figures in the JSON report (the top level of a one-size run, or one sweep row). */
export interface RowReport {
  durationSec: number;
  messages: number;
  msgsPerSec: number;
  bytesPerSec: number;
  errors: LoadResult["errors"];
  integrity: LoadResult["integrity"];
  latencyUs: LoadResult["latencyUs"];
  histogram: string;
  histogramUncorrected?: string;
  rate: LoadResult["rate"];
  pacing?: LoadResult["pacing"];
  perConnection: LoadResult["perConnection"];
  perWorker: LoadResult["perWorker"];
  firstError: string | null;
  /** Load workers that failed mid-run (absent when none did). */
  workerFailures?: string[];
  /** CPU per message over the measured window: server (null with --target) and load generator. */
  cpu?: CpuReport | null;
  slo?: SloOutcome[];
}

/** What `--json FILE` writes. */
export interface BenchReport extends RowReport {
  version: number;
  config: Record<string, unknown>;
  /** Size sweep: one row per size; the top level then covers every row. */
  sweep?: (RowReport & { size: string })[];
  server?: { readyLine: string; counters: unknown | null };
}

/** A run's figures for the JSON report. */
export function rowReport(r: LoadResult, slo?: SloOutcome[]): RowReport {
  return {
    durationSec: r.durationSec, messages: r.messages, msgsPerSec: r.msgsPerSec, bytesPerSec: r.bytesPerSec, errors: r.errors, integrity: r.integrity,
    latencyUs: r.latencyUs, histogram: r.histogram, ...(r.histogramUncorrected ? { histogramUncorrected: r.histogramUncorrected } : {}),
    rate: r.rate, ...(r.pacing ? { pacing: r.pacing } : {}), perConnection: r.perConnection, perWorker: r.perWorker, firstError: r.firstError,
    ...(r.workerFailures.length ? { workerFailures: r.workerFailures } : {}),
    cpu: r.cpu, ...(slo ? { slo } : {}),
  };
}

/** Builds the JSON report; `sweep` holds the rows of a size sweep, `total` their combination. */
export function toReport(config: Record<string, unknown>, total: RowReport, sweep: (RowReport & { size: string })[] | null, server?: BenchReport["server"]): BenchReport {
  return { version: REPORT_VERSION, config, ...total, ...(sweep ? { sweep } : {}), ...(server ? { server } : {}) };
}

/** How the load was generated, for the table's second line. */
export interface RunInfo {
  connections: number;
  workers: number;
  size: string;
  warmupSec: number;
  rate: number | null;
  pipeline: number | null;
  count: number | null;
}

const f = (n: number, d = 2) => n.toFixed(d);
const LAT_COLS = ["min", "mean", "p50", "p90", "p99", "p99.9", "p99.99", "max"];

/** A latency table: one header line and one line per labelled summary (µs). */
export function latencyLines(rows: [string, LatencyUs][]): string[] {
  const vals = rows.map(([, l]) => [l.min, l.mean, l.p50, l.p90, l.p99, l.p999, l.p9999, l.max].map((v) => f(v)));
  const w = LAT_COLS.map((c, i) => Math.max(c.length, ...vals.map((v) => v[i].length)));
  const lw = Math.max(12, ...rows.map(([label]) => label.length));
  return [
    `  ${"latency (us)".padEnd(lw)}  ${LAT_COLS.map((c, i) => c.padStart(w[i])).join("  ")}`,
    ...rows.map(([label], k) => `  ${label.padStart(lw)}  ${vals[k].map((v, i) => v.padStart(w[i])).join("  ")}`),
  ];
}

/** "closed loop, 1 in flight per connection" or "open loop at 10000 msgs/s ...". */
export function loopLine(info: RunInfo, durationSec: number): string {
  const loop = info.rate !== null
    ? `open loop at ${info.rate} msgs/s${info.pipeline ? `, at most ${info.pipeline} in flight per connection` : ""}`
    : `closed loop, ${info.pipeline ?? 1} in flight per connection`;
  const span = info.count !== null ? `${info.count} messages in ${f(durationSec, 1)} s` : `${f(durationSec, 1)} s`;
  return `  ${info.connections} connections, ${info.workers} workers, ${info.size} B messages, ${loop}, ${span} measured after ${info.warmupSec} s warm-up`;
}

/** Open loop: asked/sent/achieved, pacing, and a warning when the server or the client fell behind. */
export function rateLines(r: LoadResult): string[] {
  if (r.rate.asked === null || !r.pacing) return [];
  const { asked, sent, achieved } = r.rate;
  const pct = (x: number) => `${x >= asked ? "+" : ""}${f(((x - asked) / asked) * 100)}%`;
  const lag = r.pacing.lagUs;
  const out = [
    `  rate (msgs/s)  asked ${asked}  sent ${f(sent, 1)} (${pct(sent)})  achieved ${f(achieved, 1)} (${pct(achieved)})`,
    `  pacing error (us, send - intended)  p50 ${f(lag.p50)}  p99 ${f(lag.p99)}  max ${f(lag.max)}   peak ${r.pacing.peakSendsPerMs} sends/ms`,
  ];
  if (sent < asked * 0.99) out.push(`  ! the load generator fell behind its schedule: sent ${f(sent, 1)} of ${asked} msgs/s asked (latency still counts from the intended times)`);
  else if (achieved < asked * 0.99) out.push(`  ! the server did not keep up: achieved ${f(achieved, 1)} of ${asked} msgs/s asked; the latency above counts from the intended send times`);
  return out;
}

/** Per-connection and per-worker message counts. */
export function distributionLines(r: LoadResult): string[] {
  const pc = (p: LoadResult["perConnection"]) => `${p.min}/${p.median}/${p.max}${p.starved ? ` (${p.starved} starved)` : ""}`;
  return [
    `  per connection messages min/median/max ${pc(r.perConnection)}`,
    ...(r.perWorker.length > 1 ? r.perWorker.map((w) => `    worker ${w.id}: ${w.connections} connections, messages ${w.messages}, errors ${w.errors}, per connection ${pc(w.perConnection)}`) : []),
  ];
}

/** The errors line, with the integrity breakdown. */
export function errorLine(r: LoadResult): string {
  const e = r.errors;
  const i = r.integrity;
  return `  errors connect=${e.connect} read=${e.read} write=${e.write} verify=${e.verify} timeout=${e.timeout}   integrity lost=${i.lost} corrupt=${i.corrupt} duplicated=${i.duplicated} reordered=${i.reordered}` + (r.firstError ? `   first: ${r.firstError}` : "");
}

/** The human table of a one-size run. */
export function formatTable(info: RunInfo, r: LoadResult, title: string): string {
  const lat: [string, LatencyUs][] = r.latencyUs.uncorrected ? [["corrected", r.latencyUs], ["uncorrected", r.latencyUs.uncorrected]] : [["", r.latencyUs]];
  return [
    title,
    loopLine(info, r.durationSec),
    `  messages ${r.messages}   msgs/s ${f(r.msgsPerSec, 1)}   MB/s ${f(r.bytesPerSec / 1e6, 2)}`,
    cpuLine(r.cpu),
    ...rateLines(r),
    ...latencyLines(lat),
    ...distributionLines(r),
    errorLine(r),
  ].join("\n");
}

/** The human table of a size sweep: one row per size, then the errors of all. */
export function formatSweep(info: RunInfo, rows: { size: string; result: LoadResult }[], total: LoadResult, title: string): string {
  const open = info.rate !== null;
  const head = ["size", "msgs/s", "MB/s", ...(open ? ["achieved%"] : []), "p50", "p90", "p99", "p99.9", "max", "errors"];
  const cells = rows.map(({ size, result: r }) => {
    const l = r.latencyUs;
    return [size, f(r.msgsPerSec, 1), f(r.bytesPerSec / 1e6, 2), ...(open ? [f((r.rate.achieved / info.rate!) * 100, 2)] : []), f(l.p50), f(l.p90), f(l.p99), f(l.p999), f(l.max), String(r.errors.connect + r.errors.read + r.errors.write + r.errors.verify + r.errors.timeout)];
  });
  const w = head.map((h, i) => Math.max(h.length, ...cells.map((c) => c[i].length)));
  const line = (c: string[]) => "  " + c.map((x, i) => x.padStart(w[i])).join("  ");
  return [
    title,
    loopLine({ ...info, size: rows.map((r) => r.size).join(",") }, total.durationSec / rows.length).replace(" s measured", " s measured per size"),
    `  latency in us${open ? " (corrected)" : ""}`,
    line(head),
    ...cells.map(line),
    `  all sizes: messages ${total.messages}   msgs/s ${f(total.msgsPerSec, 1)}   MB/s ${f(total.bytesPerSec / 1e6, 2)}`,
    cpuLine(total.cpu),
    ...distributionLines(total),
    errorLine(total),
  ].join("\n");
}
