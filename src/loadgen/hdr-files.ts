/**
 * HdrHistogram's file formats, through hdr-histogram-js:
 *
 * - `.hgrm`: the percentile distribution (outputPercentileDistribution),
 *   values in microseconds;
 * - `.hlog`: the interval log (HistogramLogWriter / HistogramLogReader), one
 *   interval per measured second, values in ns, interval max in ms (the
 *   Java tools' defaults). In open loop the corrected intervals are untagged
 *   and the uncorrected ones carry `Tag=uncorrected`. A last comment line
 *   `#[vlsbench messages=N errors=E]` carries the run's counts for `merge`.
 */
import * as hdr from "hdr-histogram-js";
import { decodeHistogram } from "../common/histogram.ts";
import type { Interval } from "./intervals.ts";

/** Tag of the uncorrected intervals. */
export const UNCORRECTED_TAG = "uncorrected";

/** The .hgrm text of a histogram of ns values. */
export function hgrmText(h: hdr.Histogram): string {
  return h.outputPercentileDistribution(5, 1000);
}

/** The .hlog text of a run's intervals. */
export function hlogText(intervals: Interval[], startEpochMs: number, summary: { messages: number; errors: number }, comment: string): string {
  let out = "";
  const w = new hdr.HistogramLogWriter((s) => {
    out += s;
  });
  w.outputComment(comment);
  w.outputLogFormatVersion();
  const sec = (startEpochMs / 1000).toFixed(3);
  w.outputComment(`[StartTime: ${sec} (seconds since epoch), ${new Date(startEpochMs).toISOString()}]`);
  w.outputComment(`[BaseTime: ${sec} (seconds since epoch)]`);
  w.outputLegend();
  for (const iv of intervals) {
    if (!iv.encoded) continue;
    const end = iv.startSec + iv.lengthSec;
    for (const [tag, enc] of [[undefined, iv.encoded.corrected], [UNCORRECTED_TAG, iv.encoded.uncorrected]] as const) {
      if (enc === null) continue;
      const h = decodeHistogram(enc);
      if (tag) h.tag = tag;
      w.outputIntervalHistogram(h, iv.startSec, end, 1e6);
    }
  }
  w.outputComment(`[vlsbench messages=${summary.messages} errors=${summary.errors}]`);
  return out;
}

/** One interval read back from a log. */
export interface LogInterval {
  tag: string | null;
  /** Absolute start and end, ms since the epoch. */
  startMs: number;
  endMs: number;
  histogram: hdr.Histogram;
}

/** A parsed interval log. */
export interface ParsedLog {
  intervals: LogInterval[];
  /** From the vlsbench summary comment, when present. */
  messages: number | null;
  errors: number | null;
}

/** Reads an interval log (any HdrHistogram writer's, vlsbench's summary comment optional); throws on a malformed line. */
export function parseHlog(text: string): ParsedLog {
  const r = new hdr.HistogramLogReader(text, 64);
  const intervals: LogInterval[] = [];
  for (;;) {
    let h: hdr.Histogram | null;
    try {
      h = r.nextIntervalHistogram();
    } catch {
      throw new Error(`not an HdrHistogram interval log (bad line ${r.currentLineIndex})`);
    }
    if (!h) break;
    const tag = h.tag && h.tag !== "NO TAG" ? h.tag : null;
    intervals.push({ tag, startMs: h.startTimeStampMsec, endMs: h.endTimeStampMsec, histogram: h });
  }
  const m = text.match(/^#\[vlsbench messages=(\d+) errors=(\d+)\]/m);
  return { intervals, messages: m ? Number(m[1]) : null, errors: m ? Number(m[2]) : null };
}
