// CPU per message in the bench report: a run that started its server has
// plausible server and load-generator figures (above 0, below the window's
// wall time per message times the cores, the parts adding up), and a
// --target run (server not started by bench) measures only the load
// generator.
import { describe, test, expect, beforeAll, afterAll } from "bun:test";
import { readFileSync, mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { runCli, BENCH } from "./helpers/cli.ts";
import { startCEcho, type CEcho } from "./helpers/c-echo.ts";

const tmp = mkdtempSync(join(tmpdir(), "vlsbench-cpu-"));

/** Checks one side's figures against the window's wall time. */
function plausible(side: any, cpu: any) {
  const wallUsPerMsg = (cpu.windowSec * 1e6) / cpu.messages;
  expect(side.totalUsPerMsg).toBeGreaterThan(0);
  expect(side.totalUsPerMsg).toBeLessThan(wallUsPerMsg * cpu.cores * 1.05);
  expect(side.userUsPerMsg).toBeGreaterThanOrEqual(0);
  expect(side.sysUsPerMsg).toBeGreaterThanOrEqual(0);
  expect(side.userUsPerMsg + side.sysUsPerMsg).toBeCloseTo(side.totalUsPerMsg, 6);
}

describe("bench reports CPU per message", () => {
  let echo: CEcho;
  beforeAll(async () => {
    echo = await startCEcho();
  });
  afterAll(() => echo.stop());

  test("a started server: server and load generator, over the measured window only", async () => {
    const file = join(tmp, "started.json");
    const r = await runCli(BENCH, ["--mode", "single", "--server-workers", "1", "--connections", "4", "--workers", "1", "--duration", "2s", "--warmup", "1s", "--json", file]);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/cpu per message \(us\)\s+server [\d.]+ \(user [\d.]+, sys [\d.]+\)\s+load generator [\d.]+/);
    const j = JSON.parse(readFileSync(file, "utf8"));
    // The window is the measured 2 s, not the warm-up before it.
    expect(j.cpu.windowSec).toBeGreaterThan(1.5);
    expect(j.cpu.windowSec).toBeLessThan(3.5);
    expect(j.cpu.messages).toBeGreaterThan(0);
    expect(j.cpu.messages).toBeLessThanOrEqual(j.messages);
    plausible(j.cpu.server, j.cpu);
    plausible(j.cpu.loadgen, j.cpu);
    expect(j.cpu.server.processes).toBe(1);
  });

  test("a --target run: the load generator only", async () => {
    const file = join(tmp, "target.json");
    const r = await runCli(BENCH, ["--target", `127.0.0.1:${echo.port}`, "--connections", "4", "--workers", "1", "--duration", "1s", "--warmup", "0.5s", "--json", file]);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain("server not started by bench: not measured");
    const j = JSON.parse(readFileSync(file, "utf8"));
    expect(j.cpu.server).toBeNull();
    plausible(j.cpu.loadgen, j.cpu);
  });
});
