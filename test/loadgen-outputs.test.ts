// Outputs: the .hgrm percentile distribution, the .hlog interval log (its
// intervals add up to the run), `bench merge` of two logs written by two
// concurrent load generators (counts and histogram equal the two runs'
// together), and live progress only on a terminal.
import { describe, test, expect, beforeAll, afterAll } from "bun:test";
import { readFileSync, mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import * as hdr from "hdr-histogram-js";
import { parseHlog } from "../src/loadgen/hdr-files.ts";
import { runCli, BENCH } from "./helpers/cli.ts";
import { startCEcho, type CEcho } from "./helpers/c-echo.ts";

const tmp = mkdtempSync(join(tmpdir(), "vlsbench-outputs-"));
const f = (name: string) => join(tmp, name);
const decode = (s: string) => hdr.decodeFromCompressedBase64(s, 64);

describe("hgrm, hlog and merge", () => {
  let echo: CEcho;
  let runs: { code: number; stdout: string }[];
  beforeAll(async () => {
    echo = await startCEcho();
    const args = (x: string) => ["--target", `127.0.0.1:${echo.port}`, "--rate", "2000", "--connections", "2", "--workers", "1", "--duration", "1.5s", "--warmup", "0s", "--json", f(`${x}.json`), "--hlog", f(`${x}.hlog`), "--hgrm", f(`${x}.hgrm`)];
    runs = await Promise.all([runCli(BENCH, args("a")), runCli(BENCH, args("b"))]);
  });
  afterAll(() => echo.stop());

  test("both runs complete without errors and print no progress (stdout is not a TTY)", () => {
    for (const r of runs) {
      expect(r.code).toBe(0);
      expect(r.stdout).not.toMatch(/\[\s*1 s\]/);
    }
  });

  test("hgrm: HdrHistogram's percentile distribution in microseconds", () => {
    const text = readFileSync(f("a.hgrm"), "utf8");
    const j = JSON.parse(readFileSync(f("a.json"), "utf8"));
    expect(text).toMatch(/^\s+Value\s+Percentile\s+TotalCount\s+1\/\(1-Percentile\)/);
    expect(text).toMatch(/#\[Mean\s+=\s+[\d.]+, StdDeviation\s+=\s+[\d.]+\]/);
    expect(text).toMatch(/#\[Buckets\s+=\s+32, SubBuckets\s+=\s+2048\]/);
    expect(Number(text.match(/Total count\s+=\s+(\d+)/)![1])).toBe(j.messages);
    const max = Number(text.match(/#\[Max\s+=\s+([\d.]+)/)![1]);
    expect(Math.abs(max - j.latencyUs.max) / j.latencyUs.max).toBeLessThan(0.01);
  });

  test("hlog: one interval per second, tagged uncorrected ones, adding up to the run", () => {
    const j = JSON.parse(readFileSync(f("a.json"), "utf8"));
    const text = readFileSync(f("a.hlog"), "utf8");
    expect(text).toMatch(/^#\[Histogram log format version 1\.3\]$/m);
    expect(text).toMatch(/^#\[StartTime: [\d.]+ \(seconds since epoch\)/m);
    const log = parseHlog(text);
    const corrected = log.intervals.filter((i) => i.tag === null);
    const uncorrected = log.intervals.filter((i) => i.tag === "uncorrected");
    expect(corrected.length).toBe(2);
    expect(uncorrected.length).toBe(2);
    expect(corrected[0].endMs - corrected[0].startMs).toBeCloseTo(1000, 0);
    expect(corrected[1].startMs - corrected[0].startMs).toBeCloseTo(1000, 0);
    expect(corrected.reduce((a, i) => a + i.histogram.totalCount, 0)).toBe(j.messages);
    expect(uncorrected.reduce((a, i) => a + i.histogram.totalCount, 0)).toBe(j.messages);
    expect(log.messages).toBe(j.messages);
    expect(log.errors).toBe(0);
  });

  test("merge of two logs equals the two runs together", async () => {
    const r = await runCli(BENCH, ["merge", f("a.hlog"), f("b.hlog"), "--json", f("m.json"), "--hgrm", f("m.hgrm"), "--hlog", f("m.hlog")]);
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/merge of 2 logs/);
    const a = JSON.parse(readFileSync(f("a.json"), "utf8"));
    const b = JSON.parse(readFileSync(f("b.json"), "utf8"));
    const m = JSON.parse(readFileSync(f("m.json"), "utf8"));
    expect(m.messages).toBe(a.messages + b.messages);
    expect(m.errors).toBe(0);
    const both = decode(a.histogram);
    both.add(decode(b.histogram));
    const merged = decode(m.histogram);
    expect(merged.totalCount).toBe(both.totalCount);
    for (const p of [50, 90, 99, 99.9, 100]) expect(merged.getValueAtPercentile(p)).toBe(both.getValueAtPercentile(p));
    const bothU = decode(a.histogramUncorrected);
    bothU.add(decode(b.histogramUncorrected));
    expect(decode(m.histogramUncorrected).getValueAtPercentile(99)).toBe(bothU.getValueAtPercentile(99));
    expect(Number(readFileSync(f("m.hgrm"), "utf8").match(/Total count\s+=\s+(\d+)/)![1])).toBe(a.messages + b.messages);
    const relog = parseHlog(readFileSync(f("m.hlog"), "utf8"));
    expect(relog.intervals.filter((i) => i.tag === null).reduce((x, i) => x + i.histogram.totalCount, 0)).toBe(a.messages + b.messages);
  });

  test("merge misuse exits 2 with one line", async () => {
    for (const [args, re] of [[[], /at least one interval log/], [[f("nope.hlog")], /cannot read/], [[f("a.json")], /not an HdrHistogram interval log/], [[f("a.hgrm")], /holds no interval histogram|not an HdrHistogram/]] as [string[], RegExp][]) {
      const r = await runCli(BENCH, ["merge", ...args]);
      expect(r.code).toBe(2);
      expect(r.stderr).toMatch(re);
      expect(r.stderr.trim().split("\n")).toHaveLength(1);
    }
  });

  test.skipIf(!Bun.which("script"))("on a terminal, one progress line per second", async () => {
    const q = (s: string) => `'${s.replace(/'/g, "'\\''")}'`;
    const cmd = [process.execPath, BENCH, "--target", `127.0.0.1:${echo.port}`, "--rate", "1000", "--connections", "1", "--workers", "1", "--duration", "2.5s", "--warmup", "0s"].map(q).join(" ");
    const env: Record<string, string | undefined> = { ...process.env };
    delete env.CI;
    const p = Bun.spawn(["script", "-qec", cmd, "/dev/null"], { stdout: "pipe", stderr: "pipe", stdin: "ignore", env });
    const [out, code] = await Promise.all([new Response(p.stdout).text(), p.exited]);
    expect(code).toBe(0);
    const lines = out.split(/\r?\n/).filter((l) => /\[\s*\d+ s\]\s+msgs\/s/.test(l));
    expect(lines.length).toBe(3);
    expect(lines[0]).toMatch(/\[\s*1 s\]\s+msgs\/s\s+\d+\.\d\s+p99\s+[\d.]+ us\s+errors 0/);
  });
});
