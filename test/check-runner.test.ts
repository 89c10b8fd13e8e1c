// The check runner classifies every kind of run: probe bodies that behave,
// return a wrong value, crash, hang, exit with an error or print no result
// (test/fixtures/misbehaving-probe.ts); it counts repeated runs; and a
// check's exit status is 1 exactly when a probe could not run or the
// embedded model deviated.
import { describe, expect, test } from "bun:test";
import { join } from "node:path";
import { runProbeOnce, tally } from "../src/check/runner.ts";
import { checkExitStatus, runCheck } from "../src/check/check-run.ts";
import { KERNEL_TARGET } from "../src/check/targets.ts";
import type { Probe } from "../src/check/probe.ts";

const BODY = join(import.meta.dir, "fixtures", "misbehaving-probe.ts");

function probe(how: string, timeoutMs = 10_000): Probe {
  return {
    id: `fixture-${how}`,
    behaviour: `a body that does "${how}"`,
    kind: "design",
    scenario: BODY,
    args: () => [how],
    timeoutMs,
    judge: ({ result }) => {
      if (typeof result.answer !== "number") throw new Error("no answer field");
      return result.answer === 42 ? null : `answer ${result.answer}, not 42`;
    },
  };
}

describe("check runner: one run, classified", () => {
  test("ok: the judge found the design's behaviour", async () => {
    expect(await runProbeOnce(probe("ok"), KERNEL_TARGET)).toMatchObject({ kind: "ok", detail: "" });
  });
  test("differs: a defined wrong value, named", async () => {
    expect(await runProbeOnce(probe("wrong"), KERNEL_TARGET)).toMatchObject({ kind: "differs", detail: "answer 41, not 42" });
  });
  test("crash: the signal and the last stage reached", async () => {
    expect(await runProbeOnce(probe("crash"), KERNEL_TARGET)).toMatchObject({ kind: "crash", detail: "SIGABRT, last stage: main: about to crash" });
  });
  test("hang: killed at the bound, the last stage named", async () => {
    const o = await runProbeOnce(probe("hang", 1500), KERNEL_TARGET);
    expect(o).toMatchObject({ kind: "hang", detail: expect.stringMatching(/^no answer after \d+ ms, last stage: main: about to hang$/) });
    expect(o.elapsedMs).toBeGreaterThanOrEqual(1500);
  }, 15_000);
  test("error: the body exited non-zero (its reason kept), or printed no result, or a result the judge rejects", async () => {
    expect(await runProbeOnce(probe("exit"), KERNEL_TARGET)).toMatchObject({ kind: "error", detail: "exit 3: setup failed: no such thing" });
    expect(await runProbeOnce(probe("nojson"), KERNEL_TARGET)).toMatchObject({ kind: "error", detail: "no JSON result printed" });
    const rejecting = { ...probe("ok"), judge: () => { throw new Error("impossible"); } };
    expect(await runProbeOnce(rejecting, KERNEL_TARGET)).toMatchObject({ kind: "error", detail: "bad result: impossible" });
  });
});

describe("check runner: counts and exit status", () => {
  test("tally counts outcomes, groups details, gives the failure rate", () => {
    const t = tally("p", "kernel", [
      { kind: "ok", detail: "", elapsedMs: 10 },
      { kind: "crash", detail: "SIGSEGV, last stage: x", elapsedMs: 30 },
      { kind: "crash", detail: "SIGSEGV, last stage: x", elapsedMs: 20 },
      { kind: "differs", detail: "answer 41", elapsedMs: 40 },
      { kind: "hang", detail: "no answer after 5012 ms, last stage: round 3", elapsedMs: 5012 },
      { kind: "hang", detail: "no answer after 5020 ms, last stage: round 9", elapsedMs: 5020 },
    ]);
    expect(t.counts).toEqual({ ok: 1, differs: 1, crash: 2, hang: 2, error: 0 });
    // Details that differ only in numbers count as one, shown by the first.
    expect(t.details).toEqual([
      { kind: "crash", detail: "SIGSEGV, last stage: x", count: 2 },
      { kind: "hang", detail: "no answer after 5012 ms, last stage: round 3", count: 2 },
      { kind: "differs", detail: "answer 41", count: 1 },
    ]);
    expect(t.failureRate).toBe(5 / 6);
    expect(t.medianMs).toBe(40);
  });

  test("a check of good probes exits 0; a crashing probe on the embedded model makes it 1; an error anywhere makes it 1", async () => {
    const quiet = () => {};
    const good = await runCheck({ probes: [probe("ok")], targets: [KERNEL_TARGET], repeat: 2 }, quiet, () => false);
    expect(good.tallies[0].counts.ok).toBe(2);
    expect(checkExitStatus(good)).toBe(0);
    const crashing = await runCheck({ probes: [probe("ok"), probe("crash")], targets: [KERNEL_TARGET], repeat: 1 }, quiet, () => false);
    expect(crashing.tallies.map((t) => t.counts.crash)).toEqual([0, 1]);
    expect(checkExitStatus(crashing)).toBe(1);
    // On a VPP target a crash is a finding (exit 0); an error is not.
    const vpp = { ...KERNEL_TARGET, backend: "vpp" as const, label: "vpp test", version: "0.0" };
    expect(checkExitStatus({ ...crashing, targets: [{ ...vpp, fullVersion: "", prefix: "" }], tallies: crashing.tallies.map((t) => ({ ...t, target: "vpp test" })) })).toBe(0);
    const erroring = await runCheck({ probes: [probe("exit")], targets: [KERNEL_TARGET], repeat: 1 }, quiet, () => false);
    expect(checkExitStatus(erroring)).toBe(1);
  }, 30_000);

  test("a stop request between runs ends the check early, marked interrupted, with the finished runs counted", async () => {
    let runs = 0;
    const r = await runCheck({ probes: [probe("ok")], targets: [KERNEL_TARGET], repeat: 5 }, () => runs++, () => runs >= 2);
    expect(r.interrupted).toBe(true);
    expect(r.tallies[0].runs).toBe(2);
  }, 30_000);
});
