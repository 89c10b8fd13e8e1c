/**
 * The load workers' latency recorder: a counts array laid out exactly like
 * the HdrHistogram the main thread builds (1 ns .. 1 h, 3 significant
 * digits: 32 buckets of 2048 sub-buckets), so recording is one index
 * computation and one increment, and shipping an interval is a sparse copy
 * of the counts it touched. hdr-histogram-js itself is only used on the main
 * thread (its encoding takes milliseconds, which would disturb pacing).
 */

/** Highest trackable value (ns): one hour, as in histogram.ts. */
export const HIGHEST_NS = 3_600_000_000_000;
const SUB_HALF_MAG = 10;
const SUB_HALF = 1 << SUB_HALF_MAG;
const SUB_COUNT = 2 * SUB_HALF;
const BUCKETS = 32;
/** Length of the counts array (HdrHistogram's countsArrayLength). */
const COUNTS_LEN = (BUCKETS + 1) * SUB_HALF;
const POW2 = Array.from({ length: 64 }, (_, i) => 2 ** i);

/** The counts index HdrHistogram uses for an integer value in [0, HIGHEST_NS]. */
export function countsIndex(v: number): number {
  if (v < SUB_COUNT) return v;
  const e = v < 4294967296 ? 31 - Math.clz32(v) : 63 - Math.clz32(Math.floor(v / 4294967296));
  const b = e - SUB_HALF_MAG;
  return ((b + 1) << SUB_HALF_MAG) + Math.floor(v / POW2[b]) - SUB_HALF;
}

/** The lowest value that maps to a counts index (HdrHistogram's valueFromIndex). */
export function valueFromIndex(i: number): number {
  let b = (i >> SUB_HALF_MAG) - 1;
  let sub = (i & (SUB_HALF - 1)) + SUB_HALF;
  if (b < 0) {
    sub -= SUB_HALF;
    b = 0;
  }
  return sub * POW2[b];
}

/** A recorded interval as shipped between threads: touched indexes and counts. */
export interface SparseCounts {
  index: Int32Array;
  count: Float64Array;
  total: number;
  min: number;
  max: number;
}

/** Records ns values; drain() ships and clears them. */
export class Recorder {
  private counts = new Float64Array(COUNTS_LEN);
  private touched = new Int32Array(256);
  private nTouched = 0;
  total = 0;
  private min = Infinity;
  private max = 0;

  /** Records one value (clamped to [0, 1 h], rounded to ns). */
  record(ns: number): void {
    const v = ns <= 0 ? 0 : ns >= HIGHEST_NS ? HIGHEST_NS : Math.round(ns);
    const i = countsIndex(v);
    if (this.counts[i]++ === 0) {
      if (this.nTouched === this.touched.length) {
        const t = new Int32Array(this.touched.length * 2);
        t.set(this.touched);
        this.touched = t;
      }
      this.touched[this.nTouched++] = i;
    }
    this.total++;
    if (v < this.min) this.min = v;
    if (v > this.max) this.max = v;
  }

  /** The counts recorded since the last drain, then clears them. */
  drain(): SparseCounts {
    const n = this.nTouched;
    const index = new Int32Array(n);
    const count = new Float64Array(n);
    for (let k = 0; k < n; k++) {
      const i = this.touched[k];
      index[k] = i;
      count[k] = this.counts[i];
      this.counts[i] = 0;
    }
    const out = { index, count, total: this.total, min: this.total ? this.min : 0, max: this.max };
    this.nTouched = 0;
    this.total = 0;
    this.min = Infinity;
    this.max = 0;
    return out;
  }
}
