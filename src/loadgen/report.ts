/** The bench report: the text table and the JSON document. */
import type { LoadConfig, LoadResult } from "./run.ts";

/** JSON schema version of `--json` output. */
export const REPORT_VERSION = 1;

/** What `--json FILE` writes. */
export interface BenchReport {
  version: number;
  config: Record<string, unknown>;
  durationSec: number;
  messages: number;
  msgsPerSec: number;
  bytesPerSec: number;
  errors: LoadResult["errors"];
  latencyUs: LoadResult["latencyUs"];
  histogram: string;
  perConnection: LoadResult["perConnection"];
  perWorker: LoadResult["perWorker"];
  firstError: string | null;
  server?: { readyLine: string; counters: unknown | null };
}

/** Builds the JSON report. */
export function toReport(config: Record<string, unknown>, r: LoadResult, server?: BenchReport["server"]): BenchReport {
  return {
    version: REPORT_VERSION, config, durationSec: r.durationSec, messages: r.messages, msgsPerSec: r.msgsPerSec, bytesPerSec: r.bytesPerSec,
    errors: r.errors, latencyUs: r.latencyUs, histogram: r.histogram, perConnection: r.perConnection, perWorker: r.perWorker, firstError: r.firstError,
    ...(server ? { server } : {}),
  };
}

const f = (n: number, d = 2) => n.toFixed(d);

/** The human table. */
export function formatTable(cfg: LoadConfig, r: LoadResult, title: string): string {
  const l = r.latencyUs;
  const cols = ["min", "mean", "p50", "p90", "p99", "p99.9", "p99.99", "max"];
  const vals = [l.min, l.mean, l.p50, l.p90, l.p99, l.p999, l.p9999, l.max].map((v) => f(v));
  const w = vals.map((v, i) => Math.max(v.length, cols[i].length));
  const e = r.errors;
  return [
    title,
    `  ${cfg.connections} connections, ${cfg.workers} workers, ${cfg.size} B messages, closed loop, ${f(r.durationSec, 1)} s measured after ${cfg.warmupSec} s warm-up`,
    `  messages ${r.messages}   msgs/s ${f(r.msgsPerSec, 1)}   MB/s ${f(r.bytesPerSec / 1e6, 2)}`,
    `  latency (us)  ${cols.map((c, i) => c.padStart(w[i])).join("  ")}`,
    `                ${vals.map((v, i) => v.padStart(w[i])).join("  ")}`,
    `  per connection messages min/median/max ${r.perConnection.min}/${r.perConnection.median}/${r.perConnection.max}`,
    `  errors connect=${e.connect} read=${e.read} write=${e.write} verify=${e.verify} timeout=${e.timeout}` + (r.firstError ? `   first: ${r.firstError}` : ""),
  ].join("\n");
}
