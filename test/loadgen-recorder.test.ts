// The load workers' recorder lays counts out exactly as hdr-histogram-js
// does, so the histogram rebuilt on the main thread equals one recorded
// directly (counts, percentiles, exact min and max).
import { describe, test, expect } from "bun:test";
import { Recorder, countsIndex, valueFromIndex, HIGHEST_NS } from "../src/loadgen/recorder.ts";
import { newHistogram } from "../src/common/histogram.ts";
import { addSparse } from "../src/loadgen/histogram.ts";

describe("recorder", () => {
  test("index and value round-trip at bucket edges", () => {
    for (const v of [0, 1, 2047, 2048, 2049, 4095, 4096, 1e6, 2 ** 31 - 1, 2 ** 31, 2 ** 32 - 1, 2 ** 32, 2 ** 40 + 12345, HIGHEST_NS]) {
      const i = countsIndex(v);
      expect(valueFromIndex(i)).toBeLessThanOrEqual(v);
      expect(valueFromIndex(i + 1)).toBeGreaterThan(v);
    }
  });

  test("rebuilt histogram equals hdr-histogram-js recording the same values", () => {
    const direct = newHistogram();
    const rec = new Recorder();
    let x = 12345;
    const values: number[] = [];
    for (let k = 0; k < 20000; k++) {
      x = (x * 1103515245 + 12345) % 2 ** 31;
      const v = k % 1000 === 0 ? x * 1000 : 1000 + (x % 5_000_000);
      values.push(v);
      direct.recordValue(v);
      rec.record(v);
    }
    const rebuilt = newHistogram();
    addSparse(rebuilt, rec.drain());
    expect(rebuilt.totalCount).toBe(direct.totalCount);
    expect(rebuilt.minNonZeroValue).toBe(Math.min(...values));
    expect(rebuilt.maxValue).toBe(direct.maxValue);
    for (const p of [1, 10, 50, 90, 99, 99.9, 99.99, 100]) expect(rebuilt.getValueAtPercentile(p)).toBe(direct.getValueAtPercentile(p));
    expect(rec.drain().total).toBe(0);
  });
});
