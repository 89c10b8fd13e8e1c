/**
 * The load workers' sparse interval counts (recorder.ts) added into an HDR
 * histogram (common/histogram.ts) on the main thread.
 */
import type * as hdr from "hdr-histogram-js";
import { valueFromIndex, type SparseCounts } from "./recorder.ts";

/**
 * Adds a worker's sparse counts to h. Counts land in the same buckets as the
 * worker's; the buckets of the minimum and the maximum are recorded at their
 * exact values, so min and max stay exact.
 */
export function addSparse(h: hdr.Histogram, s: SparseCounts): void {
  for (let k = 0; k < s.index.length; k++) {
    const i = s.index[k];
    let n = s.count[k];
    const low = valueFromIndex(i);
    const high = valueFromIndex(i + 1);
    if (s.min >= low && s.min < high) {
      h.recordValueWithCount(s.min, 1);
      n--;
    }
    if (n > 0 && s.max >= low && s.max < high) {
      h.recordValueWithCount(s.max, 1);
      n--;
    }
    if (n > 0) h.recordValueWithCount(low, n);
  }
}
