// 100,000 random ABI calls from 4 threads at once (random, stale and foreign
// handles, wrong sizes, closed sessions): only counts and negative errno
// values come back; no crash, no hang.
import { test, expect } from "bun:test";
import { join } from "node:path";
import { runScenario } from "./helpers/scenario.ts";

const SCRIPT = join(import.meta.dir, "scenarios", "ffi-fuzz.ts");

for (const mode of ["single", "thread"])
  test(`FFI fuzz, ${mode} mode, 4 threads x 25,000 calls`, async () => {
    const r = await runScenario(SCRIPT, [mode, "4", "25000"], 90_000);
    expect(r.calls).toBe(100_000);
    expect(r.bad).toEqual([]);
    expect(r.results.ok).toBeGreaterThan(1000); // the fuzz did reach real work
    expect(r.results["77"]).toBeGreaterThan(1000); // EBADFD for bad handles
    const known = new Set(["ok", "2", "4", "11", "17", "22", "32", "77", "93", "95", "97", "98", "103", "104", "106", "107", "111", "114", "115", "12", "9", "99", "92", "13", "1", "38"]);
    for (const k of Object.keys(r.results)) expect(known.has(k) ? k : `unexpected errno ${k}`).toBe(k);
  }, 100_000);
