/**
 * Live progress: one line per measured second (msgs/s, p99 of that second,
 * errors so far), only on an interactive terminal outside CI.
 */
import type * as hdr from "hdr-histogram-js";
import type { Interval } from "./intervals.ts";

/** Whether progress lines may be printed: stdout is a TTY and CI is not set. */
export function progressWanted(): boolean {
  return Boolean(process.stdout.isTTY) && !process.env.CI;
}

/** One progress line for an interval (corrected histogram in ns). */
export function progressLine(iv: Interval, corrected: hdr.Histogram, label = ""): string {
  const rate = iv.lengthSec > 0 ? iv.messages / iv.lengthSec : 0;
  const p99 = corrected.totalCount ? Math.min(corrected.getValueAtPercentile(99), corrected.maxValue) / 1e3 : 0;
  return `  ${label}[${String(iv.index + 1).padStart(4)} s]  msgs/s ${rate.toFixed(1).padStart(10)}   p99 ${p99.toFixed(2).padStart(9)} us   errors ${iv.errors}`;
}
