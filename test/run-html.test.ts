// `bench --html FILE` for an ordinary run: the page renders in headless
// Chromium with every chart drawn (spectrum corrected and uncorrected, per
// second throughput, latency and errors, per connection), no console error,
// no network; a control page with a chart's data emptied must fail the check.
import { describe, test, expect, beforeAll } from "bun:test";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { runCli, BENCH } from "./helpers/cli.ts";
import { findChromium, renderPage, chartProblems } from "./helpers/chromium.ts";

const tmp = mkdtempSync(join(tmpdir(), "vlsbench-run-html-"));
const HTML = join(tmp, "run.html");
const IDS = ["spectrum", "per-second-rate", "per-second-latency", "per-second-errors", "per-connection"];
let run: Awaited<ReturnType<typeof runCli>>;

beforeAll(async () => {
  run = await runCli(BENCH, ["--rate", "4k", "--duration", "3s", "--warmup", "0.2s", "--connections", "8", "--html", HTML], 60_000);
}, 70_000);

describe("bench --html (one open-loop run)", () => {
  test("exits 0 and writes a self-contained page with both spectra and the run's figures", () => {
    expect(run.code).toBe(0);
    const html = readFileSync(HTML, "utf8");
    expect(html).not.toMatch(/<script[^>]+src=|<link[^>]+href=/);
    const data = JSON.parse(html.match(/globalThis\.REPORT_DATA = (.*);<\/script>/)![1]);
    const spectrum = data.charts.find((c: any) => c.id === "spectrum");
    expect(spectrum.series.map((s: any) => s.label)).toEqual(["corrected", "uncorrected"]);
    const perSecond = data.charts.find((c: any) => c.id === "per-second-rate");
    expect(perSecond.x.length).toBeGreaterThanOrEqual(3);
    expect(data.charts.find((c: any) => c.id === "per-connection").series[0].y).toHaveLength(8);
    const p99: (number | null)[] = data.charts.find((c: any) => c.id === "per-second-latency").series[1].y;
    expect(p99.some((v) => v !== null)).toBe(true);
    expect(p99.every((v) => v === null || v > 0)).toBe(true);
    expect(html).toContain("<th>connections</th><td>8</td>");
  });

  const chromium = findChromium();
  test.skipIf(!chromium)("renders in headless Chromium: every chart drew, no console errors", async () => {
    expect(chartProblems(await renderPage(HTML), IDS)).toEqual([]);
  }, 60_000);

  test.skipIf(!chromium)("control: the same page with the per-second data emptied fails the check", async () => {
    const html = readFileSync(HTML, "utf8");
    const broken = join(tmp, "broken.html");
    const data = JSON.parse(html.match(/globalThis\.REPORT_DATA = (.*);<\/script>/)![1]);
    data.charts.find((c: any) => c.id === "per-second-rate").x = [];
    writeFileSync(broken, html.replace(/globalThis\.REPORT_DATA = .*;<\/script>/, () => `globalThis.REPORT_DATA = ${JSON.stringify(data)};</script>`));
    const problems = chartProblems(await renderPage(broken), IDS);
    expect(problems.some((p) => p.startsWith("per-second-rate: no canvas"))).toBe(true);
  }, 60_000);
});
