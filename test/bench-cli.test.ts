// The load generator: its JSON report against a live server, error
// counting when the server dies mid-run, and misuse.
import { describe, test, expect } from "bun:test";
import { readFileSync, mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startServerChild } from "../src/loadgen/server-child.ts";
import { runCli, BENCH } from "./helpers/cli.ts";

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

  test("an unreachable target is a connect error within the connect timeout", async () => {
    const r = await runCli(BENCH, ["--target", "127.0.0.1:1", "--duration", "2s", "--warmup", "0s", "--connections", "2", "--workers", "1"], 20_000);
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/errors connect=2/);
  });

  const misuse: [string[], RegExp][] = [
    [["--duration", "ten"], /--duration must be a duration/],
    [["--size", "0"], /--size must be between 1/],
    [["--connections=-3"], /--connections must be between 1/],
    [["--target", "nohost"], /--target must be HOST:PORT/],
    [["--target", "127.0.0.1:80", "--mode", "thread"], /cannot be used with --target/],
    [["--warmup"], /argument missing|requires|value/i],
    [["--frobnicate"], /Unknown option/],
  ];
  for (const [args, re] of misuse)
    test(`misuse ${args.join(" ")} exits 2 with one line`, async () => {
      const r = await runCli(BENCH, args);
      expect(r.code).toBe(2);
      expect(r.stderr).toMatch(re);
      expect(r.stderr.trim().split("\n").length).toBe(1);
    });
});
