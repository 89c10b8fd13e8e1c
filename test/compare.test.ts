// `bench --compare --quick --rounds 2` on the kernel backend with VPP made
// unfindable: the verdicts, a row per mode and load point with every column
// (median and min-max of the rounds), the migration scenario, a note (not a
// failure) for the missing VPP, and the HTML report (verdicts, rounds)
// rendered in headless Chromium with every chart drawn. `bench diff` of two reports.
import { describe, test, expect, beforeAll } from "bun:test";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { runCli, BENCH } from "./helpers/cli.ts";
import { findChromium, renderPage, chartProblems } from "./helpers/chromium.ts";
import { COLUMNS } from "../src/compare/rows.ts";

const tmp = mkdtempSync(join(tmpdir(), "vlsbench-compare-test-"));
const JSON_FILE = join(tmp, "compare.json");
const HTML_FILE = join(tmp, "compare.html");
const MODES = ["single", "thread", "process"];
let run: Awaited<ReturnType<typeof runCli>>;

beforeAll(async () => {
  // An empty VPP_PREFIX directory: VPP is "not found" on every machine.
  run = await runCli(BENCH, ["--compare", "--quick", "--rounds", "2", "--backends", "kernel,vpp", "--json", JSON_FILE, "--html", HTML_FILE], 120_000, { VPP_PREFIX: tmp });
}, 130_000);

const CHARTS = ["spectrum-closed", "spectrum-rate", "cpu", "throughput", "rpc", "accepts"];

describe("bench --compare --quick --rounds 2 (kernel; VPP not found)", () => {
  test("exits 0 and prints its progress per run, the rounds alternated", () => {
    expect(run.code).toBe(0);
    for (let k = 1; k <= 12; k++) expect(run.stderr).toContain(`[${k}/12] kernel `);
    // Round by round: single thread process single thread process.
    const order = [...run.stderr.matchAll(/\] kernel (\w+) closed loop \(round (\d)\/2\)/g)].map((m) => `${m[1]}${m[2]}`);
    expect(order).toEqual(["single1", "thread1", "process1", "single2", "thread2", "process2"]);
    expect(run.stderr).toMatch(/migration cost \(kernel, thread mode, busy owner \+ 1 load thread\): call p50 [\d.]+ us, p99 [\d.]+ us; RPC p50 [\d.]+ us/);
  });

  test("verdicts first, then the table: every column, a row per mode and point with its min-max, the best marked only beyond noise", () => {
    const all = run.stdout.split("\n");
    expect(all[0]).toBe("verdicts (2 rounds):");
    const j = JSON.parse(readFileSync(JSON_FILE, "utf8"));
    for (const v of j.verdicts) expect(all).toContain(`  ${v.text}`);
    const start = all.findIndex((l) => l.startsWith("run "));
    const header = all[start];
    const lines = all.slice(start + 1, all.indexOf("", start)); // the table, without the lock block
    for (const c of COLUMNS) expect(header).toContain(c.name);
    for (const m of MODES) {
      expect(lines.some((l) => l.startsWith(`kernel ${m} closed `))).toBe(true);
      expect(lines.some((l) => new RegExp(`^kernel ${m} @\\d+/s `).test(l))).toBe(true);
    }
    expect(lines.filter((l) => l.startsWith("  min-max "))).toHaveLength(6);
    // msgs/s of the closed-loop rows: the median shown, and a mark only on
    // the highest median whose range is apart from every other's.
    const closed = lines.filter((l) => / closed /.test(l));
    expect(closed).toHaveLength(3);
    const stats = MODES.map((m) => j.rows.find((r: any) => r.mode === m && r.point === "closed").stats["msgs/s"]);
    // The label is three words; the server's CPU per message is the first figure.
    expect(COLUMNS[0].name).toBe("srv cpu us/msg");
    for (const l of closed) expect(Number(l.split(/\s+/)[3].replace("*", ""))).toBeGreaterThan(0);
    const col = 3 + COLUMNS.findIndex((c) => c.name === "msgs/s");
    const shown = closed.map((l) => Number(l.split(/\s+/)[col].replace("*", "")));
    expect(shown).toEqual(stats.map((s: any) => Math.round(s.median)));
    const marked = closed.map((l) => l.split(/\s+/)[col].endsWith("*"));
    const top = stats.indexOf(stats.reduce((a: any, b: any) => (b.median > a.median ? b : a)));
    const apart = stats.every((s: any, i: number) => i === top || s.max < stats[top].min);
    expect(marked).toEqual(MODES.map((_, i) => apart && i === top));
    expect(run.stdout).toContain("lock contention (contended / acquired) per lock, first round:");
  });

  test("a missing VPP is a note in the output and the report, not a failure", () => {
    expect(run.stdout).toMatch(/^note: vpp backend skipped: VPP not found \(searched .+\)/m);
    const j = JSON.parse(readFileSync(JSON_FILE, "utf8"));
    expect(j.notes.some((n: string) => n.startsWith("vpp backend skipped: VPP not found"))).toBe(true);
    expect(readFileSync(HTML_FILE, "utf8")).toContain("vpp backend skipped: VPP not found");
  });

  test("the JSON holds the rounds, a verdict per column and point, each row's rounds and {median, min, max}", () => {
    const j = JSON.parse(readFileSync(JSON_FILE, "utf8"));
    expect(j.rounds).toBe(2);
    expect(j.rows).toHaveLength(6);
    for (const row of j.rows) {
      expect(row.rounds).toHaveLength(2);
      const s = row.stats["msgs/s"];
      const values = row.rounds.map((r: any) => r["msgs/s"]);
      expect(s).toEqual({ median: (values[0] + values[1]) / 2, min: Math.min(...values), max: Math.max(...values), n: 2 });
    }
    const columns = new Set(j.verdicts.map((v: any) => v.column));
    for (const c of ["msgs/s", "p50 us", "p99 us", "p99.9 us", "errors"]) expect(columns.has(c)).toBe(true);
    for (const v of j.verdicts) {
      expect(["closed loop", "fixed rate"]).toContain(v.point);
      expect(v.rounds).toBe(2);
      expect(v.ranking.flat().sort()).toEqual(MODES.map((m) => `kernel ${m}`).sort());
      expect(typeof v.text).toBe("string");
    }
  });

  test("the JSON holds every run with its histogram, the plan, the machine and the migration under load", () => {
    const j = JSON.parse(readFileSync(JSON_FILE, "utf8"));
    expect(j.runs.map((r: any) => `${r.backend} ${r.mode} ${r.point} ${r.round}`).sort()).toEqual(MODES.flatMap((m) => [1, 2].flatMap((k) => [`kernel ${m} closed ${k}`, `kernel ${m} rate ${k}`])).sort());
    for (const r of j.runs) {
      expect(typeof r.report.histogram).toBe("string");
      expect(r.report.messages).toBeGreaterThan(0);
      expect(Object.values(r.report.errors).every((e) => e === 0)).toBe(true);
      expect(r.report.server.counters.native.locks).toBeDefined();
    }
    // The fixed rate is half the slowest closed-loop throughput (median of the rounds).
    const slowest = Math.min(...j.rows.filter((r: any) => r.point === "closed").map((r: any) => r.stats["msgs/s"].median));
    for (const r of j.runs.filter((r: any) => r.point === "rate")) expect(r.rate).toBeCloseTo(Math.max(100, slowest / 2), 0);
    expect(j.plan).toMatchObject({ quick: true, rounds: 2, modes: MODES });
    expect(j.machine.cores).toBeGreaterThan(0);
    expect(j.machine.bun).toBe(Bun.version);
    expect(j.version).toBe(3);
    expect(j.migrations).toHaveLength(1);
    const m = j.migrations[0];
    expect(m).toMatchObject({ backend: "kernel", sessions: 200, ok: 200, failed: 0, loadThreads: 1, counted: 200 });
    expect(m.rpcNs.length).toBe(200);
    expect(m.rpcLatency.count).toBe(200);
    expect(m.callLatency.count).toBe(200);
    expect(m.rpcLatency.us.p50).toBeGreaterThan(0);
    expect(run.stdout).toMatch(/^kernel +p50 [\d.]+ us, p99 [\d.]+ us, 200 ok, 0 failed; RPC p50/m);
  });

  const chromium = findChromium();
  test.skipIf(!chromium)(`the HTML report renders in headless Chromium: every chart drew, no console errors${chromium ? "" : " (skipped: chromium not installed; npm test installs it when run as root)"}`, async () => {
    expect(chartProblems(await renderPage(HTML_FILE), CHARTS)).toEqual([]);
    const html = readFileSync(HTML_FILE, "utf8");
    expect(html).not.toMatch(/<script[^>]+src=|<link[^>]+href=/); // self-contained
    const j = JSON.parse(readFileSync(JSON_FILE, "utf8"));
    expect(html.match(/<ul class="verdicts" id="verdicts">(.*?)<\/ul>/)![1].match(/<li /g)).toHaveLength(j.verdicts.length);
    expect(html).toContain("2 rounds of every backend x mode x load point");
    expect(html.match(/<span class="range">/g)!.length).toBeGreaterThanOrEqual(6 * 6);
    expect(html).toContain("<th>rounds</th><td>2</td>"); // configuration as a table
  }, 60_000);

  test.skipIf(!chromium)("control: the rounds page with the throughput data emptied fails the check", async () => {
    const html = readFileSync(HTML_FILE, "utf8");
    const data = JSON.parse(html.match(/globalThis\.REPORT_DATA = (.*);<\/script>/)![1]);
    data.charts.find((c: any) => c.id === "throughput").items = [];
    const broken = join(tmp, "broken-throughput.html");
    writeFileSync(broken, html.replace(/globalThis\.REPORT_DATA = .*;<\/script>/, () => `globalThis.REPORT_DATA = ${JSON.stringify(data)};</script>`));
    expect(chartProblems(await renderPage(broken), CHARTS)).toContain("throughput: no canvas");
  }, 60_000);

  test.skipIf(!chromium)("the render check sees a script error and an empty chart (control)", async () => {
    const page = join(tmp, "broken.html");
    const uplot = readFileSync(join(import.meta.dir, "..", "node_modules", "uplot", "dist", "uPlot.iife.min.js"), "utf8");
    writeFileSync(
      page,
      `<!doctype html><html><body><div class="chart" id="empty"></div><script>${uplot}</script><script>
      new uPlot({ width: 400, height: 200, series: [{}, { stroke: "red" }] }, [[], []], document.getElementById("empty"));
      console.error("drawn badly");
      throw new Error("boom");</script></body></html>`,
    );
    const r = await renderPage(page);
    expect(r.errors.some((e) => e.includes("drawn badly"))).toBe(true);
    expect(r.errors.some((e) => e.includes("boom"))).toBe(true);
    expect(r.charts).toHaveLength(1);
    expect(r.charts[0].coloured).toBeLessThan(500);
  }, 60_000);

  test("bench diff of two reports prints the change per run and column", async () => {
    const j = JSON.parse(readFileSync(JSON_FILE, "utf8"));
    const faster = structuredClone(j);
    for (const r of faster.runs) r.report.msgsPerSec *= 2;
    faster.runs = faster.runs.filter((r: any) => !(r.mode === "process" && r.point === "rate"));
    const b = join(tmp, "faster.json");
    writeFileSync(b, JSON.stringify(faster));
    const d = await runCli(BENCH, ["diff", JSON_FILE, b]);
    expect(d.code).toBe(0);
    const header = d.stdout.split("\n")[0];
    for (const c of COLUMNS.filter((c) => c.name !== "accepts min/max")) expect(header).toContain(c.name);
    const single = d.stdout.split("\n").find((l) => l.startsWith("kernel single closed"))!;
    expect(single).toMatch(/\+100%/);
    expect(d.stdout).toMatch(/^kernel process rate\s+only in the first report$/m);
  });

  test("bench diff between two VPP versions matches their rows by mode and point", async () => {
    const j = JSON.parse(readFileSync(JSON_FILE, "utf8"));
    const asVpp = (version: string, scale: number) => {
      const d = structuredClone(j);
      for (const r of d.runs) {
        r.backend = `vpp ${version}`;
        r.report.msgsPerSec *= scale;
      }
      return d;
    };
    const [a, b] = [join(tmp, "vpp-a.json"), join(tmp, "vpp-b.json")];
    writeFileSync(a, JSON.stringify(asVpp("24.06", 1)));
    writeFileSync(b, JSON.stringify(asVpp("26.10-rc0", 1.5)));
    const d = await runCli(BENCH, ["diff", a, b]);
    expect(d.code).toBe(0);
    expect(d.stdout.split("\n").find((l) => l.startsWith("vpp 24.06>26.10-rc0 single closed"))).toMatch(/\+50%/);
    expect(d.stdout).not.toMatch(/only in the/);
  });

  test("bench diff misuse exits 2 with one line", async () => {
    for (const args of [["diff", JSON_FILE], ["diff", JSON_FILE, join(tmp, "missing.json")]]) {
      const d = await runCli(BENCH, args);
      expect(d.code).toBe(2);
      expect(d.stderr.trim().split("\n")).toHaveLength(1);
    }
  });
});
