// The open-loop schedule: its arithmetic (unit), and its behaviour when the
// server stalls. The server (c-echo) is stopped with SIGSTOP for 200 ms in
// the middle of a 2 s run at 2000 msgs/s:
// - open loop without a window: the client keeps sending on schedule (it is
//   never blocked: the socket buffers absorb the stall), so no burst follows
//   the stall: at most 100 first bytes are written in any one millisecond
//   (2 are scheduled; catching up the stall's 400 would put them all
//   there), 99% of sends lag their intended times by less than 50 ms
//   (a quarter of the stall), and the stall shows in the corrected latency;
// - with --pipeline 1 (wrk2's model) the messages due during the stall wait
//   in the client: their latency from the intended time (corrected) shows
//   the stall, their latency from the actual send (uncorrected) does not.
import { describe, test, expect, beforeAll, afterAll } from "bun:test";
import { readFileSync, readdirSync, mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Schedule, measuredRange, planWait } from "../src/loadgen/schedule.ts";
import { runCli, BENCH } from "./helpers/cli.ts";
import { startCEcho, type CEcho } from "./helpers/c-echo.ts";

describe("schedule arithmetic", () => {
  test("messages interleave over connections and workers at rate", () => {
    // 4 connections, this worker owns global connections 2 and 3; 1000 msgs/s.
    const s = new Schedule(1e9, 1000, 4, 2, 2, 10);
    const seen: [number, number][] = [];
    while (s.nextNs !== Infinity) {
      seen.push([s.j, s.nextNs]);
      s.advance();
    }
    // global messages 2, 3, 6, 7 (< g1 = 10), 1 ms apart globally
    expect(seen).toEqual([[0, 1e9 + 2e6], [1, 1e9 + 3e6], [0, 1e9 + 6e6], [1, 1e9 + 7e6]]);
    expect(s.intendedNs(1, 0)).toBe(1e9 + 6e6);
    expect(s.index(1, 1)).toBe(7);
  });

  test("advanceTo: counting many due messages at once gives what stepping one by one gives", () => {
    // 5 connections in all, this worker owns global 1..3; 3 Mmsgs/s; a few
    // steps are walked, big jumps counted arithmetically: same counts, same cursor.
    const mk = () => new Schedule(1e9, 3e6, 5, 1, 3, 200_000);
    const bulk = mk();
    const step = mk();
    const fromBulk = [0, 0, 0];
    const fromStep = [0, 0, 0];
    for (const now of [1e9 - 1, 1e9 + 1e3, 1e9 + 1234, 1e9 + 5e6, 1e9 + 5e6 + 7, 1e9 + 20e6 + 333, 1e9 + 1e12]) {
      bulk.advanceTo(now, (c, n) => (fromBulk[c] += n));
      while (step.nextNs <= now) {
        fromStep[step.j]++;
        step.advance();
      }
      expect(fromBulk).toEqual(fromStep);
      expect([bulk.j, bulk.nextNs]).toEqual([step.j, step.nextNs]);
    }
    // Every one of the worker's messages below g1 was due exactly once.
    expect(fromBulk.reduce((a, b) => a + b, 0)).toBe(3 * 40_000);
  });

  test("measured range: warm-up excluded, duration or count", () => {
    expect(measuredRange(10000, 0.3, 1, null)).toEqual({ g0: 3000, g1: 13000 });
    expect(measuredRange(10000, 0.3, 1, 500)).toEqual({ g0: 3000, g1: 3500 });
  });

  test("waits: far -> 1 ms epoll; near and busy -> poll; near and idle -> precise sleep", () => {
    expect(planWait(Infinity, true)).toEqual({ sleepMs: 0, epollMs: 5 });
    expect(planWait(5e6, true)).toEqual({ sleepMs: 0, epollMs: 1 });
    expect(planWait(500e3, true)).toEqual({ sleepMs: 0, epollMs: 0 });
    expect(planWait(500e3, false)).toEqual({ sleepMs: 0.4, epollMs: 0 });
    expect(planWait(50e3, false)).toEqual({ sleepMs: 0, epollMs: 0 });
  });
});

describe("a 200 ms server stall at a fixed rate", () => {
  let echo: CEcho;
  const tmp = mkdtempSync(join(tmpdir(), "vlsbench-stall-"));
  beforeAll(async () => {
    echo = await startCEcho();
  });
  afterAll(() => echo.stop());

  /** Runs bench at 2000 msgs/s for 2 s, stopping the server 500 ms after the connections are up. */
  async function stalledRun(extra: string[]) {
    const file = join(tmp, `r${extra.join("")}.json`);
    const fds = () => readdirSync(`/proc/${echo.proc.pid}/fd`).length;
    const before = fds();
    const run = runCli(BENCH, ["--target", `127.0.0.1:${echo.port}`, "--rate", "2000", "--connections", "2", "--workers", "1", "--duration", "2s", "--warmup", "0s", "--json", file, ...extra], 30_000);
    const t0 = Date.now();
    while (fds() < before + 2 && Date.now() - t0 < 15_000) await Bun.sleep(5);
    await Bun.sleep(500);
    echo.proc.kill("SIGSTOP");
    await Bun.sleep(200);
    echo.proc.kill("SIGCONT");
    const r = await run;
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    return JSON.parse(readFileSync(file, "utf8"));
  }

  test("open loop: sends stay on schedule (no burst after the stall), corrected latency shows it", async () => {
    const j = await stalledRun([]);
    expect(j.messages).toBe(4000);
    expect(j.rate.asked).toBe(2000);
    expect(j.rate.sent).toBeGreaterThan(2000 * 0.98);
    expect(j.rate.sent).toBeLessThan(2000 * 1.02);
    console.log(`stall, open loop: sent ${j.rate.sent.toFixed(1)}/s, peak ${j.pacing.peakSendsPerMs} sends/ms, lag p99 ${j.pacing.lagUs.p99.toFixed(0)} us, corrected max ${j.latencyUs.corrected.max.toFixed(0)} us`);
    // Bounds with room for the generator's own hiccups on a noisy 2-core
    // machine (a 30 ms pause puts 60 due sends in one millisecond), far
    // from what catching up the stall would show (400 sends at once, 10%
    // of sends lagging up to 200 ms).
    expect(j.pacing.peakSendsPerMs).toBeLessThanOrEqual(100);
    expect(j.pacing.lagUs.p99).toBeLessThan(50_000);
    expect(j.latencyUs.corrected.max).toBeGreaterThanOrEqual(150_000);
    expect(j.latencyUs.p99).toBe(j.latencyUs.corrected.p99);
  }, 40_000);

  test("--pipeline 1: corrected latency grows with the stall, uncorrected does not", async () => {
    const j = await stalledRun(["--pipeline", "1"]);
    expect(j.messages).toBe(4000);
    const c = j.latencyUs.corrected;
    const u = j.latencyUs.uncorrected;
    expect(c.p99).toBeGreaterThanOrEqual(150_000);
    expect(u.p99).toBeLessThan(50_000);
    expect(u.p99 * 3).toBeLessThan(c.p99);
  }, 40_000);
});

describe("a rate the server cannot keep up with", () => {
  let echo: CEcho;
  const tmp = mkdtempSync(join(tmpdir(), "vlsbench-overload-"));
  beforeAll(async () => {
    echo = await startCEcho();
  });
  afterAll(() => echo.stop());

  test("achieved < asked is printed, and msgs/s is no more than what was really echoed per second", async () => {
    const file = join(tmp, "overload.json");
    // One message in flight on one connection: a few tens of thousands per second at most.
    const r = await runCli(BENCH, ["--target", `127.0.0.1:${echo.port}`, "--rate", "5000k", "--pipeline", "1", "--connections", "1", "--workers", "1", "--duration", "1s", "--warmup", "0s", "--json", file], 60_000);
    // Most of the asked messages never get out of the client before the
    // drain deadline: they are counted as timeouts, and bench exits 1.
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/! the (server did not keep up|load generator fell behind)/);
    const j = JSON.parse(readFileSync(file, "utf8"));
    expect(j.rate.asked).toBe(5_000_000);
    expect(j.rate.achieved).toBeLessThan(j.rate.asked / 10);
    // The measured messages kept coming for the whole drain (~5 s): msgs/s
    // spreads them over that time, not over the 1 s window (which would
    // claim several times the rate that was really echoed).
    expect(j.durationSec).toBeGreaterThan(3);
    expect(j.msgsPerSec).toBeCloseTo(j.messages / j.durationSec, 3);
    // The generator's own schedule bookkeeping does not eat the loop at an
    // asked rate far beyond reach: echoes come as fast inside the window as
    // in the drain after it (they came 3x slower when every due message was
    // stepped one by one).
    expect(j.msgsPerSec).toBeLessThan(j.rate.achieved * 2);
    expect(j.errors).toEqual({ connect: 0, read: 0, write: 0, verify: 0, timeout: 1 });
    expect(j.messages).toBeGreaterThan(100);
  }, 70_000);
});
