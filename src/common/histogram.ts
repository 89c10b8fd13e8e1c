/**
 * HDR histograms (hdr-histogram-js), values in ns: built, merged,
 * summarised, and encoded as compressed base64 for reports and logs, by the
 * load generator (loadgen/) and the server (its RPC latencies) alike.
 */
import * as hdr from "hdr-histogram-js";

/** 1 ns .. 1 hour at 3 significant digits. */
export function newHistogram(): hdr.Histogram {
  return hdr.build({ bitBucketSize: 64, lowestDiscernibleValue: 1, highestTrackableValue: 3_600_000_000_000, numberOfSignificantValueDigits: 3 });
}

/** Serialises for a worker message or the JSON report. */
export function encodeHistogram(h: hdr.Histogram): string {
  return hdr.encodeIntoCompressedBase64(h);
}

/** Decodes one compressed base64 histogram. */
export function decodeHistogram(encoded: string): hdr.Histogram {
  return hdr.decodeFromCompressedBase64(encoded, 64);
}

/** Merges encoded histograms into one. */
export function mergeHistograms(encoded: string[]): hdr.Histogram {
  const total = newHistogram();
  for (const e of encoded) total.add(hdr.decodeFromCompressedBase64(e, 64));
  return total;
}

/** Latency summary in microseconds. */
export interface LatencyUs {
  min: number;
  mean: number;
  p50: number;
  p90: number;
  p99: number;
  p999: number;
  p9999: number;
  max: number;
}

const us = (ns: number) => Math.round(ns / 10) / 100;

/** Percentiles of a histogram of ns values, in µs (0.01 µs resolution). */
export function summarise(h: hdr.Histogram): LatencyUs {
  if (h.totalCount === 0) return { min: 0, mean: 0, p50: 0, p90: 0, p99: 0, p999: 0, p9999: 0, max: 0 };
  // A percentile is reported as the top of its HDR bucket; never above max.
  const at = (p: number) => us(Math.min(h.getValueAtPercentile(p), h.maxValue));
  return {
    min: us(h.minNonZeroValue),
    mean: us(h.mean),
    p50: at(50),
    p90: at(90),
    p99: at(99),
    p999: at(99.9),
    p9999: at(99.99),
    max: us(h.maxValue),
  };
}

/** A list of ns values as an HDR histogram: count, summary (µs) and compressed base64. */
export function histogramOfNs(ns: ArrayLike<number>): { count: number; us: LatencyUs; histogram: string } {
  const h = newHistogram();
  for (let i = 0; i < ns.length; i++) h.recordValue(Math.max(1, Math.round(ns[i])));
  return { count: ns.length, us: summarise(h), histogram: encodeHistogram(h) };
}
