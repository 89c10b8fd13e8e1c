/**
 * A size sweep: one run per size (or size range), one after the other
 * against the same server, and their combination for the report's
 * top-level figures (every size's messages together).
 */
import { newHistogram } from "../common/histogram.ts";
import { combineCpu } from "./cpu.ts";
import { runLoad, sumCounts, measuredFigures, type LoadConfig, type LoadResult, type PerConnection } from "./run.ts";

/** One row of a sweep: its size label and its run. */
export interface SweepRow {
  size: string;
  result: LoadResult;
}

/** Runs each size in turn; `before` is told which row starts. */
export async function runSweep(base: LoadConfig, sizes: { lo: number; hi: number; label: string }[], before: (label: string, i: number) => void): Promise<SweepRow[]> {
  const rows: SweepRow[] = [];
  for (const [i, s] of sizes.entries()) {
    before(s.label, i);
    rows.push({ size: s.label, result: await runLoad({ ...base, size: s.lo, sizeMax: s.hi }) });
  }
  return rows;
}

const sum = (xs: number[]) => xs.reduce((a, b) => a + b, 0);

/** The rows together: counts added, histograms merged, rates time-weighted. */
export function combineRows(rows: LoadResult[]): LoadResult {
  if (rows.length === 1) return rows[0];
  const corrected = newHistogram();
  const uncorrected = newHistogram();
  for (const r of rows) {
    corrected.add(r.histograms.corrected);
    if (r.histograms.uncorrected) uncorrected.add(r.histograms.uncorrected);
  }
  const open = rows[0].rate.asked !== null;
  const durationSec = sum(rows.map((r) => r.durationSec));
  const messages = sum(rows.map((r) => r.messages));
  const bytes = sum(rows.map((r) => r.bytesPerSec * r.durationSec));
  const { errors, integrity } = sumCounts(rows);
  const weighted = (f: (r: LoadResult) => number) => sum(rows.map((r) => f(r) * r.durationSec)) / durationSec;
  const medians = rows.map((r) => r.perConnection.median).sort((a, b) => a - b);
  const perConnection: PerConnection = {
    min: Math.min(...rows.map((r) => r.perConnection.min)),
    median: medians[Math.floor(medians.length / 2)],
    max: Math.max(...rows.map((r) => r.perConnection.max)),
    starved: sum(rows.map((r) => r.perConnection.starved)),
  };
  const workers = new Map<number, LoadResult["perWorker"][number]>();
  for (const r of rows)
    for (const w of r.perWorker) {
      const t = workers.get(w.id);
      if (!t) workers.set(w.id, { ...w, perConnection: { ...w.perConnection } });
      else {
        t.messages += w.messages;
        t.errors += w.errors;
        t.perConnection.min = Math.min(t.perConnection.min, w.perConnection.min);
        t.perConnection.max = Math.max(t.perConnection.max, w.perConnection.max);
        t.perConnection.starved += w.perConnection.starved;
      }
    }
  return {
    ...measuredFigures(messages, bytes, durationSec, corrected, open ? uncorrected : null),
    errors,
    integrity,
    rate: { asked: rows[0].rate.asked, sent: weighted((r) => r.rate.sent), achieved: weighted((r) => r.rate.achieved) },
    pacing: null,
    perConnection,
    perWorker: [...workers.values()].sort((a, b) => a.id - b.id),
    firstError: rows.find((r) => r.firstError)?.firstError ?? null,
    workerFailures: rows.flatMap((r) => r.workerFailures),
    startEpochMs: rows[0].startEpochMs,
    intervals: [],
    histograms: { corrected, uncorrected: open ? uncorrected : null },
    cpu: combineCpu(rows.map((r) => r.cpu)),
  };
}
