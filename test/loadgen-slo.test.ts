// Service-level objectives: parsing (unit) and bench's exit status: 0 when
// every objective passes, 1 when one fails (each printed as pass/FAIL),
// 2 for a malformed spec.
import { describe, test, expect, beforeAll, afterAll } from "bun:test";
import { readFileSync, mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseSlo, evaluateSlo } from "../src/loadgen/slo.ts";
import { newHistogram } from "../src/common/histogram.ts";
import { runCli, BENCH } from "./helpers/cli.ts";
import { startCEcho, type CEcho } from "./helpers/c-echo.ts";

describe("slo spec", () => {
  test("parses latency, count and rate terms", () => {
    const t = parseSlo("p99<500us, p999<=2ms,p99.99<1s,max<1000,errors=0,lost==0,rate>=9.5k");
    expect(t.map((x) => [x.metric, x.percentile, x.op, x.value])).toEqual([
      ["p99", 99, "<", 500],
      ["p999", 99.9, "<=", 2000],
      ["p99.99", 99.99, "<", 1e6],
      ["max", 100, "<", 1000],
      ["errors", null, "=", 0],
      ["lost", null, "=", 0],
      ["rate", null, ">=", 9500],
    ]);
  });

  test("evaluates against a histogram and counts", () => {
    const h = newHistogram();
    for (let i = 1; i <= 100; i++) h.recordValue(i * 1000);
    const out = evaluateSlo(parseSlo("p50<=51us,p99<50us,errors=0,timeout=0"), { histogram: h, counts: { errors: 0 }, rate: null });
    expect(out.map((o) => o.pass)).toEqual([true, false, true, false]);
    expect(out[3].actual).toBeNull();
  });

  for (const [spec, re] of [["p99", /METRIC<VALUE/], ["p99<fast", /latency must be a time/], ["p99<5us,", /empty term/], ["speed<5", /metric must be/], ["errors<many", /value must be a number/]] as const)
    test(`rejects '${spec}'`, () => expect(() => parseSlo(spec)).toThrow(re));
});

describe("bench --slo", () => {
  let echo: CEcho;
  const tmp = mkdtempSync(join(tmpdir(), "vlsbench-slo-"));
  beforeAll(async () => {
    echo = await startCEcho();
  });
  afterAll(() => echo.stop());
  const run = (slo: string, json?: string) => runCli(BENCH, ["--target", `127.0.0.1:${echo.port}`, "--count", "3000", "--connections", "2", "--workers", "1", "--warmup", "0s", "--slo", slo, ...(json ? ["--json", json] : [])]);

  test("every objective met: each printed as pass, exit 0", async () => {
    const file = join(tmp, "pass.json");
    const r = await run("p50<10s,p999<20s,errors=0,lost=0", file);
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    expect(r.stdout.match(/^  slo .* pass$/gm)).toHaveLength(4);
    const j = JSON.parse(readFileSync(file, "utf8"));
    expect(j.slo.map((o: { pass: boolean }) => o.pass)).toEqual([true, true, true, true]);
  });

  test("one objective missed: printed as FAIL, exit 1", async () => {
    const r = await run("errors=0,p50<1ns");
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/^  slo errors=0 .* pass$/m);
    expect(r.stdout).toMatch(/^  slo p50<1ns .* FAIL$/m);
  });

  test("a malformed spec is misuse: exit 2, one line, nothing run", async () => {
    const r = await run("p99<<5ms");
    expect(r.code).toBe(2);
    expect(r.stdout).toBe("");
    expect(r.stderr.trim().split("\n")).toHaveLength(1);
  });
});
