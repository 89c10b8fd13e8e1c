// The probe catalog on the embedded model: every probe, run once each,
// shows the design's behaviour (outcome ok), through the real CLI with its
// JSON (well formed: a tally per probe, counts that add up).
import { describe, expect, test } from "bun:test";
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { CATALOG } from "../src/check/catalog.ts";
import { runCli, CHECK } from "./helpers/cli.ts";
import { findChromium, renderPage } from "./helpers/chromium.ts";

const chromium = findChromium();

describe("check on the embedded model", () => {
  test(`the catalog has at least 16 probes, unique ids, each with one sentence`, () => {
    expect(CATALOG.length).toBeGreaterThanOrEqual(16);
    expect(new Set(CATALOG.map((p) => p.id)).size).toBe(CATALOG.length);
    for (const p of CATALOG) expect(p.behaviour).toMatch(/^\S.+\.$/);
  });

  test("every probe is ok on kernel (check --quick --json, exit 0)", async () => {
    const file = join(mkdtempSync(join(tmpdir(), "vlsbench-check-")), "check.json");
    const html = file.replace(/json$/, "html");
    const r = await runCli(CHECK, ["--quick", "--json", file, "--html", html], 240_000, { VPP_PREFIX: "/nonexistent" });
    const j = JSON.parse(readFileSync(file, "utf8"));
    const notOk = j.tallies.filter((t: any) => t.counts.ok !== t.runs).map((t: any) => `${t.probe}: ${JSON.stringify(t.details)}`);
    expect(notOk).toEqual([]);
    expect(r.code).toBe(0);
    expect(j.targets.map((t: any) => t.label)).toEqual(["kernel"]);
    expect(j.tallies.map((t: any) => t.probe).sort()).toEqual(CATALOG.filter((p) => !p.backends || p.backends.includes("kernel")).map((p) => p.id).sort());
    for (const t of j.tallies) expect(Object.values(t.counts).reduce((a: number, b: any) => a + b, 0)).toBe(1);
    expect(j.notes.some((n: string) => n.startsWith("no VPP checked"))).toBe(true);
    expect(r.stdout).toMatch(/nothing: every run showed the design's behaviour/);
    const page = readFileSync(html, "utf8");
    for (const t of j.tallies) expect(page).toContain(`<b>${t.probe}</b>`);
    if (chromium) expect((await renderPage(html)).errors).toEqual([]);
    else console.log("check HTML not rendered: chromium not installed");
  }, 250_000);
});
