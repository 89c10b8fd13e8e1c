// The noise rule with made-up rounds: overlapping ranges are "within
// noise", separated ranges give the ranking, one round never claims a
// difference beyond noise; best marks and `bench diff` follow the same rule.
import { describe, test, expect } from "bun:test";
import { spreadOf, beyondNoise, verdictOf } from "../src/compare/verdict.ts";
import { cellsOf, bestCells, verdictsOf } from "../src/compare/rounds.ts";
import { COLUMNS } from "../src/compare/rows.ts";
import { diffReports } from "../src/compare/diff.ts";
import type { CompareRun } from "../src/compare/run.ts";

const e = (label: string, values: number[]) => ({ label, spread: spreadOf(values) });

/** A run whose report holds only what rows.ts reads. */
function run(mode: string, round: number, msgsPerSec: number, p99 = 100): CompareRun {
  const lat = { p50: 10, p90: 50, p99, p999: 200, max: 300 };
  return { backend: "kernel", mode, point: "closed", rate: null, round, report: { msgsPerSec, latencyUs: lat, errors: { connect: 0 }, histogram: "", server: { counters: {} } } };
}

describe("spreadOf and beyondNoise", () => {
  test("median, min and max; an even count takes the middle pair's mean; NaN left out", () => {
    expect(spreadOf([3, 1, 2])).toEqual({ median: 2, min: 1, max: 3, n: 3 });
    expect(spreadOf([4, 1, NaN, 2, 3])).toEqual({ median: 2.5, min: 1, max: 4, n: 4 });
    expect(spreadOf([NaN]).n).toBe(0);
  });

  test("apart ranges are beyond noise, touching or overlapping ones are not, one round never is", () => {
    expect(beyondNoise(spreadOf([10, 12]), spreadOf([13, 15]))).toBe(true);
    expect(beyondNoise(spreadOf([10, 13]), spreadOf([13, 15]))).toBe(false);
    expect(beyondNoise(spreadOf([10, 14]), spreadOf([13, 15]))).toBe(false);
    expect(beyondNoise(spreadOf([10]), spreadOf([100]))).toBe(false);
    expect(beyondNoise(spreadOf([10, 10]), spreadOf([100]))).toBe(false);
  });
});

describe("verdictOf", () => {
  test("overlapping ranges: no difference beyond noise, no best", () => {
    const v = verdictOf("msgs/s", "closed loop", "high", 3, [e("thread", [100, 130, 120]), e("single", [90, 110, 105])])!;
    expect(v.beyondNoise).toBe(false);
    expect(v.best).toBeNull();
    expect(v.ranking).toEqual([["thread", "single"]]);
    expect(v.text).toBe("msgs/s (closed loop): no difference beyond noise (3 rounds)");
  });

  test("separated ranges: the ranking, the best and its margin over the runner-up", () => {
    const v = verdictOf("msgs/s", "closed loop", "high", 3, [e("single", [100, 95, 98]), e("thread", [112, 115, 110]), e("process", [50, 60, 55])])!;
    expect(v.beyondNoise).toBe(true);
    expect(v.best).toBe("thread");
    expect(v.ranking).toEqual([["thread"], ["single"], ["process"]]);
    expect(v.marginPct).toBeCloseTo(((112 - 98) / 98) * 100, 6);
    expect(v.text).toStartWith("msgs/s (closed loop): thread > single by 14% (beyond noise, 3 rounds)");
  });

  test("lower is better for latency: the lowest range wins", () => {
    const v = verdictOf("p99 us", "fixed rate", "low", 2, [e("single", [300, 320]), e("thread", [100, 120])])!;
    expect(v.best).toBe("thread");
    expect(v.text).toBe("p99 us (fixed rate): thread < single by 65% (beyond noise, 2 rounds)");
  });

  test("a best within noise of the runner-up but both apart from the third: a ranking, no best", () => {
    const v = verdictOf("msgs/s", "closed loop", "high", 3, [e("a", [108, 118, 120]), e("b", [105, 115, 117]), e("c", [10, 12, 11])])!;
    expect(v.best).toBeNull();
    expect(v.beyondNoise).toBe(false);
    expect(v.ranking).toEqual([["a", "b"], ["c"]]);
    expect(v.text).toBe("msgs/s (closed loop): no single best beyond noise (3 rounds): a ≈ b > c");
  });

  test("a single round never claims beyond noise, however far apart", () => {
    const v = verdictOf("msgs/s", "closed loop", "high", 1, [e("thread", [1000]), e("single", [10])])!;
    expect(v.beyondNoise).toBe(false);
    expect(v.best).toBeNull();
    expect(v.text).toContain("1 round");
    expect(v.text).toContain("nothing is beyond noise");
  });

  test("fewer than two valued entries: no verdict", () => {
    expect(verdictOf("rpc p50 us", "closed loop", "low", 3, [e("thread", [5, 6]), e("single", [NaN, NaN])])).toBeNull();
  });
});

describe("cells of rounds: best marks and verdicts", () => {
  test("runs group per backend x mode x point; the best is marked only beyond noise", () => {
    const apart = cellsOf([run("single", 1, 100), run("thread", 1, 200), run("single", 2, 110), run("thread", 2, 190)]);
    expect(apart.map((c) => [c.mode, c.rounds.length])).toEqual([["single", 2], ["thread", 2]]);
    const col = COLUMNS.find((c) => c.name === "msgs/s")!;
    expect([...bestCells(apart, col)]).toEqual([1]);
    expect(apart[1].stats["msgs/s"]).toEqual({ median: 195, min: 190, max: 200, n: 2 });
    expect(verdictsOf(apart).find((v) => v.column === "msgs/s")!.best).toBe("kernel thread");

    const overlapping = cellsOf([run("single", 1, 100), run("thread", 1, 200), run("single", 2, 195), run("thread", 2, 150)]);
    expect(bestCells(overlapping, col).size).toBe(0);
    const one = cellsOf([run("single", 1, 100), run("thread", 1, 200)]);
    expect(bestCells(one, col).size).toBe(0);
  });
});

describe("bench diff's noise rule", () => {
  const doc = (runs: CompareRun[]) => ({ version: 3, runs });
  const line = (text: string) => text.split("\n").find((l) => l.startsWith("kernel single closed"))!;

  test("a change beyond both spreads is a change; within them it is marked ~", () => {
    const a = doc([run("single", 1, 100), run("single", 2, 110), run("single", 3, 105)]);
    const faster = doc([run("single", 1, 200), run("single", 2, 210), run("single", 3, 190)]);
    const same = doc([run("single", 1, 108), run("single", 2, 96), run("single", 3, 112)]);
    expect(line(diffReports(a, faster))).toMatch(/105>200 \+90%/);
    expect(line(diffReports(a, same))).toMatch(/105>108 ~\+3%/);
  });

  test("a side of one round (old reports) has no spread: the change is shown, marked ?", () => {
    const old = { version: 2, runs: [{ ...run("single", 1, 100), round: undefined }] };
    const d = diffReports(old, doc([run("single", 1, 200), run("single", 2, 210)]));
    expect(line(d)).toMatch(/100>205 \+105%\?/);
    expect(d).toContain("?: a side has one round");
  });
});
