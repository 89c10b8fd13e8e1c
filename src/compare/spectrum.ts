/** Percentile spectra on the usual log ladder, from HDR histograms or lists. */
import * as hdr from "hdr-histogram-js";

/** The ladder's x values: 1/(1-p) = 10^(k/10), k = 0..60, so p runs
 * 0%, 20.6%, ..., 90% (x=10), ..., 99% (x=100), ..., 99.9999% (x=10^6). */
export const LADDER: number[] = Array.from({ length: 61 }, (_, k) => 10 ** (k / 10));

/** Latency (µs) at each ladder point, null where the sample is too small to
 * have that percentile (x > count): `at(p)` gives the value at p in [0,100]. */
function onLadder(count: number, at: (p: number) => number): (number | null)[] {
  return LADDER.map((x) => (count > 0 && x <= count ? at(100 * (1 - 1 / x)) : null));
}

/** Spectrum of a compressed base64 HDR histogram of ns values. */
export function spectrumOfHistogram(encoded: string): (number | null)[] {
  const h = hdr.decodeFromCompressedBase64(encoded, 64);
  return onLadder(h.totalCount, (p) => h.getValueAtPercentile(p) / 1000);
}

/** The p-th percentile (0..100) in µs of ascending ns values. */
const atSorted = (s: number[], p: number) => s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))] / 1000;

/** p-th percentile (0..100) of a list of ns values, in µs (NaN when empty). */
export function percentileUs(ns: number[], p: number): number {
  return ns.length ? atSorted([...ns].sort((a, b) => a - b), p) : NaN;
}

/** Spectrum of several encoded histograms added together (a cell's rounds). */
export function spectrumOfHistograms(encoded: string[]): (number | null)[] {
  const [first, ...rest] = encoded.map((e) => hdr.decodeFromCompressedBase64(e, 64));
  for (const h of rest) first.add(h);
  return onLadder(first.totalCount, (p) => first.getValueAtPercentile(p) / 1000);
}
