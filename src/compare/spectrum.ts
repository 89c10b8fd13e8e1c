/** Percentile spectra from HDR histograms (compressed base64, values in ns). */
import * as hdr from "hdr-histogram-js";

/** Points of a percentile spectrum: x = 1/(1-p) (p in [0,1)), y = latency µs. */
export interface Spectrum {
  x: number[];
  y: number[];
}

/** The usual log ladder of percentiles, up to the histogram's count. */
export function spectrum(encoded: string): Spectrum {
  const h = hdr.decodeFromCompressedBase64(encoded, 64);
  const x: number[] = [];
  const y: number[] = [];
  if (h.totalCount === 0) return { x, y };
  // p = 1 - 10^(-k/10): 0, 20.6%, ..., 90%, ..., 99%, ..., 99.999%
  for (let k = 0; k <= 60; k++) {
    const p = 1 - 10 ** (-k / 10);
    if (1 / (1 - p) > h.totalCount) break;
    x.push(1 / (1 - p));
    y.push(h.getValueAtPercentile(p * 100) / 1000);
  }
  x.push(h.totalCount);
  y.push(h.maxValue / 1000);
  return { x, y };
}

/** p-th percentile (0..100) of a list of ns values, in µs. */
export function percentileUs(ns: number[], p: number): number {
  if (!ns.length) return NaN;
  const s = [...ns].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))] / 1000;
}
