/**
 * `bench merge a.hlog b.hlog ...`: adds interval logs written by several
 * load generators (hosts) into one measurement. Every interval is added to
 * the total of its tag (untagged: corrected or closed-loop latency;
 * `uncorrected`); per-second figures align the logs on wall-clock time,
 * each interval counted in the second (from the earliest start) it begins in.
 */
import type * as hdr from "hdr-histogram-js";
import { newHistogram, encodeHistogram, summarise, type LatencyUs } from "../common/histogram.ts";
import { UNCORRECTED_TAG, type ParsedLog } from "./hdr-files.ts";
import type { Interval } from "./intervals.ts";

/** Several logs added together. */
export interface MergedLogs {
  logs: number;
  corrected: hdr.Histogram;
  uncorrected: hdr.Histogram | null;
  /** Wall-clock start (ms since the epoch) of the earliest interval. */
  startEpochMs: number;
  /** Earliest start to latest end, seconds. */
  spanSec: number;
  /** Errors from the logs' vlsbench summaries; null when a log has none. */
  errors: number | null;
  /** One merged interval per second (encoded histograms). */
  perSecond: (Interval & { p50Us: number; p99Us: number; maxUs: number })[];
  /** Intervals with other tags, ignored. */
  ignored: number;
}

/** Adds parsed logs together. */
export function mergeLogs(logs: ParsedLog[]): MergedLogs {
  const all = logs.flatMap((l) => l.intervals);
  const t0 = Math.min(...all.map((i) => i.startMs));
  const t1 = Math.max(...all.map((i) => i.endMs));
  const corrected = newHistogram();
  const uncorrected = newHistogram();
  const seconds = new Map<number, { c: hdr.Histogram; u: hdr.Histogram | null }>();
  let ignored = 0;
  for (const iv of all) {
    if (iv.tag !== null && iv.tag !== UNCORRECTED_TAG) {
      ignored++;
      continue;
    }
    const k = Math.floor((iv.startMs - t0) / 1000);
    let s = seconds.get(k);
    if (!s) seconds.set(k, (s = { c: newHistogram(), u: null }));
    if (iv.tag === null) {
      corrected.add(iv.histogram);
      s.c.add(iv.histogram);
    } else {
      uncorrected.add(iv.histogram);
      (s.u ??= newHistogram()).add(iv.histogram);
    }
  }
  const spanSec = all.length ? (t1 - t0) / 1000 : 0;
  const perSecond = [...seconds.entries()]
    .sort((a, b) => a[0] - b[0])
    .map(([k, s]) => {
      const lengthSec = Math.max(1e-9, Math.min(1, spanSec - k));
      const at = (p: number) => (s.c.totalCount ? Math.min(s.c.getValueAtPercentile(p), s.c.maxValue) / 1e3 : 0);
      return {
        index: k, startSec: k, lengthSec, messages: s.c.totalCount, errors: 0,
        encoded: { corrected: encodeHistogram(s.c), uncorrected: s.u ? encodeHistogram(s.u) : null },
        p50Us: at(50), p99Us: at(99), maxUs: s.c.maxValue / 1e3,
      };
    });
  const errors = logs.every((l) => l.errors !== null) ? logs.reduce((a, l) => a + l.errors!, 0) : null;
  return { logs: logs.length, corrected, uncorrected: uncorrected.totalCount ? uncorrected : null, startEpochMs: all.length ? t0 : Date.now(), spanSec, errors, perSecond, ignored };
}

/** The text report of a merge. */
export function formatMerge(m: MergedLogs, names: string[], latencyLines: (rows: [string, LatencyUs][]) => string[]): string {
  const n = m.corrected.totalCount;
  const lat: [string, LatencyUs][] = m.uncorrected ? [["corrected", summarise(m.corrected)], ["uncorrected", summarise(m.uncorrected)]] : [["", summarise(m.corrected)]];
  const rows = m.perSecond.map((s) => `  ${String(s.startSec).padStart(6)}  ${(s.messages / s.lengthSec).toFixed(1).padStart(12)}  ${s.p50Us.toFixed(2).padStart(10)}  ${s.p99Us.toFixed(2).padStart(10)}  ${s.maxUs.toFixed(2).padStart(10)}`);
  return [
    `vlsbench merge of ${m.logs} logs (${names.join(", ")}), ${m.spanSec.toFixed(1)} s`,
    `  messages ${n}   msgs/s ${(m.spanSec > 0 ? n / m.spanSec : 0).toFixed(1)}`,
    ...latencyLines(lat),
    `  ${"second".padStart(6)}  ${"msgs/s".padStart(12)}  ${"p50 us".padStart(10)}  ${"p99 us".padStart(10)}  ${"max us".padStart(10)}`,
    ...rows,
    `  errors ${m.errors ?? "unknown (a log has no vlsbench summary)"}` + (m.ignored ? `   (${m.ignored} intervals with other tags ignored)` : ""),
  ].join("\n");
}
