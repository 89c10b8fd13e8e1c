// The load generator: its JSON report against a live server, error
// counting when the server dies mid-run, size sweeps and random sizes,
// --count, and misuse.
import { describe, test, expect } from "bun:test";
import { readFileSync, readdirSync, mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startServerChild } from "../src/loadgen/server-child.ts";
import { runCli, BENCH } from "./helpers/cli.ts";
import { startCEcho } from "./helpers/c-echo.ts";
import { alive } from "../src/common/proc.ts";

const tmp = mkdtempSync(join(tmpdir(), "vlsbench-test-"));

describe("bench", () => {
  test("JSON report has every field with sane values (started server)", async () => {
    const file = join(tmp, "run.json");
    const r = await runCli(BENCH, ["--duration", "1s", "--warmup", "300ms", "--connections", "8", "--workers", "2", "--size", "100", "--json", file]);
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/msgs\/s/);
    const j = JSON.parse(readFileSync(file, "utf8"));
    expect(j.version).toBe(1);
    expect(j.config).toMatchObject({ connections: 8, workers: 2, size: 100, durationSec: 1, warmupSec: 0.3, mode: "single", backend: "kernel" });
    expect(j.durationSec).toBeGreaterThan(0.9);
    expect(j.durationSec).toBeLessThan(1.5);
    expect(j.messages).toBeGreaterThan(100);
    expect(j.msgsPerSec).toBeCloseTo(j.messages / j.durationSec, 0);
    expect(j.bytesPerSec).toBeCloseTo(j.msgsPerSec * 100, -1);
    expect(j.errors).toEqual({ connect: 0, read: 0, write: 0, verify: 0, timeout: 0 });
    const l = j.latencyUs;
    for (const k of ["min", "mean", "p50", "p90", "p99", "p999", "p9999", "max"]) expect(l[k]).toBeGreaterThan(0);
    expect(l.min).toBeLessThanOrEqual(l.p50);
    expect(l.p50).toBeLessThanOrEqual(l.p90);
    expect(l.p90).toBeLessThanOrEqual(l.p99);
    expect(l.p99).toBeLessThanOrEqual(l.p999);
    expect(l.p9999).toBeLessThanOrEqual(l.max);
    expect(typeof j.histogram).toBe("string");
    expect(j.histogram.length).toBeGreaterThan(10);
    expect(j.perConnection.min).toBeGreaterThan(0);
    expect(j.perConnection.starved).toBe(0);
    expect(j.integrity).toEqual({ lost: 0, corrupt: 0, duplicated: 0, reordered: 0 });
    expect(j.rate.asked).toBeNull();
    expect(j.rate.achieved).toBeGreaterThan(0);
    expect(j.perWorker.map((w: { id: number; connections: number }) => [w.id, w.connections])).toEqual([[0, 4], [1, 4]]);
    expect(j.perWorker[0].perConnection.min).toBeGreaterThan(0);
    expect(r.stdout).toMatch(/worker 1: 4 connections, messages \d+, errors 0/);
    expect(j.server.readyLine).toMatch(/^ready /);
    // the server read every message the clients completed (and a few in flight at the edges)
    const serverMsgs = j.server.counters.workers.reduce((a: number, w: { messages: number }) => a + w.messages, 0);
    expect(serverMsgs).toBeGreaterThanOrEqual(j.messages);
  });

  test("against --target: a live external server", async () => {
    const srv = await startServerChild({ backend: "kernel", mode: "thread", workers: 2, host: "127.0.0.1" });
    const file = join(tmp, "target.json");
    const r = await runCli(BENCH, ["--target", `127.0.0.1:${srv.port}`, "--duration", "1s", "--warmup", "0s", "--connections", "4", "--workers", "1", "--json", file]);
    await srv.stop();
    expect(r.code).toBe(0);
    const j = JSON.parse(readFileSync(file, "utf8"));
    expect(j.server).toBeUndefined();
    expect(j.messages).toBeGreaterThan(0);
  });

  test("server killed mid-run: errors counted, exit 1, no hang", async () => {
    const srv = await startServerChild({ backend: "kernel", mode: "single", workers: 1, host: "127.0.0.1" });
    const file = join(tmp, "killed.json");
    const run = runCli(BENCH, ["--target", `127.0.0.1:${srv.port}`, "--duration", "30s", "--warmup", "0s", "--connections", "4", "--workers", "1", "--json", file], 20_000);
    await Bun.sleep(1500);
    srv.proc.kill("SIGKILL");
    const t0 = Date.now();
    const r = await run;
    expect(Date.now() - t0).toBeLessThan(10_000);
    expect(r.code).toBe(1);
    const j = JSON.parse(readFileSync(file, "utf8"));
    expect(j.errors.read).toBe(4);
    expect(j.messages).toBeGreaterThan(0);
    expect(j.firstError).toMatch(/read/);
  });

  test("bench SIGKILLed mid-run: the server it started exits within 3 s", async () => {
    const p = Bun.spawn([process.execPath, BENCH, "--connections", "2", "--duration", "30s", "--warmup", "0s"], { stdout: "ignore", stderr: "ignore", env: { ...process.env, CI: "1" } });
    const serverOf = () => {
      for (const pid of readdirSync("/proc").filter((d) => /^\d+$/.test(d))) {
        try {
          const args = readFileSync(`/proc/${pid}/cmdline`, "utf8").split("\0");
          if (args.some((a) => a.endsWith("src/cli/server.ts")) && readFileSync(`/proc/${pid}/status`, "utf8").includes(`PPid:\t${p.pid}\n`)) return Number(pid);
        } catch {}
      }
      return 0;
    };
    let server = 0;
    for (let i = 0; i < 100 && !server; i++) {
      await Bun.sleep(100);
      server = serverOf();
    }
    expect(server).toBeGreaterThan(0);
    await Bun.sleep(500);
    p.kill("SIGKILL");
    await p.exited;
    const gone = () => !alive(server);
    const t0 = Date.now();
    while (!gone() && Date.now() - t0 < 3000) await Bun.sleep(50);
    expect(gone()).toBe(true);
  }, 30_000);

  test("an unreachable target is a connect error within the connect timeout", async () => {
    const r = await runCli(BENCH, ["--target", "127.0.0.1:1", "--duration", "2s", "--warmup", "0s", "--connections", "2", "--workers", "1"], 20_000);
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/errors connect=2/);
  });

  test("a size sweep: one row per size, --count messages each, totals on top", async () => {
    const echo = await startCEcho();
    const file = join(tmp, "sweep.json");
    const r = await runCli(BENCH, ["--target", `127.0.0.1:${echo.port}`, "--size", "64,1k", "--count", "2000", "--warmup", "0s", "--connections", "2", "--workers", "1", "--json", file]);
    await echo.stop();
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^\s+64\s+[\d.]+/m);
    expect(r.stdout).toMatch(/^\s+1024\s+[\d.]+/m);
    const j = JSON.parse(readFileSync(file, "utf8"));
    expect(j.config.size).toBe("64,1024");
    expect(j.sweep.map((x: { size: string; messages: number }) => [x.size, x.messages])).toEqual([["64", 2000], ["1024", 2000]]);
    expect(j.sweep[1].bytesPerSec / j.sweep[1].msgsPerSec).toBeCloseTo(1024, 3);
    expect(j.messages).toBe(4000);
    expect(j.errors).toEqual({ connect: 0, read: 0, write: 0, verify: 0, timeout: 0 });
    for (const row of j.sweep) expect(row.latencyUs.p50).toBeGreaterThan(0);
  });

  test("random sizes in a range, pipelined: every byte checked, mean size inside the range", async () => {
    const echo = await startCEcho();
    const file = join(tmp, "range.json");
    const r = await runCli(BENCH, ["--target", `127.0.0.1:${echo.port}`, "--size", "16-4k", "--pipeline", "4", "--count", "4000", "--warmup", "0s", "--connections", "2", "--workers", "1", "--json", file]);
    await echo.stop();
    expect(r.code).toBe(0);
    const j = JSON.parse(readFileSync(file, "utf8"));
    expect(j.config.size).toBe("16-4096");
    expect(j.messages).toBe(4000);
    const mean = j.bytesPerSec / j.msgsPerSec;
    expect(mean).toBeGreaterThan(1700);
    expect(mean).toBeLessThan(2400);
    expect(j.integrity).toEqual({ lost: 0, corrupt: 0, duplicated: 0, reordered: 0 });
  });

  const misuse: [string[], RegExp][] = [
    [["--duration", "ten"], /--duration must be a duration/],
    [["--size", "0"], /--size must be between 1/],
    [["--connections=-3"], /--connections must be between 1/],
    [["--target", "nohost"], /--target must be HOST:PORT/],
    [["--target", "127.0.0.1:80", "--mode", "thread"], /cannot be used with --target/],
    [["--warmup"], /argument missing|requires|value/i],
    [["--frobnicate"], /Unknown option/],
    [["--duration", "1s", "--count", "10"], /--duration and --count cannot be used together/],
    [["--count", "0"], /--count must be between 1/],
    [["--rate", "0"], /--rate must be more than 0/],
    [["--rate", "fast"], /--rate must be a rate/],
    [["--pipeline", "0"], /--pipeline must be between 1 and 65536/],
    [["--size", "4k-64"], /--size range must go from low to high/],
    [["--size", "1-2-3"], /--size range must be LOW-HIGH/],
    [["--size", "64,,1k"], /--size must be a size/],
    [["--slo", "p99<<1ms"], /--slo latency must be a time/],
  ];
  for (const [args, re] of misuse)
    test(`misuse ${args.join(" ")} exits 2 with one line`, async () => {
      const r = await runCli(BENCH, args);
      expect(r.code).toBe(2);
      expect(r.stderr).toMatch(re);
      expect(r.stderr.trim().split("\n").length).toBe(1);
    });
});
