/**
 * Runs probes: each run in its own scenario process (probe-process.ts),
 * on one target (the embedded model, or one VPP install named by its
 * prefix), classified into an outcome (outcome.ts).
 */
import { isAbsolute, join } from "node:path";
import { runProbeProcess } from "./probe-process.ts";
import { classify, type Outcome, type OutcomeKind } from "./outcome.ts";
import type { Probe, ProbeContext } from "./probe.ts";

/** Where probes run: the embedded model, or one VPP install. */
export interface CheckTarget extends ProbeContext {
  /** How reports name it: "kernel", "vpp 24.06". */
  label: string;
  /** The VPP prefix (VPP_PREFIX for the probe process); "" on kernel. */
  prefix: string;
}

/** One classified run, with what it took. */
export interface ProbeRunOutcome extends Outcome {
  elapsedMs: number;
}

const SCENARIOS = join(import.meta.dir, "scenarios");

/** The native build probes run on: the lock-debug one (a hang dumps lock owners) unless told otherwise. */
const VARIANT = process.env.VLSB_NATIVE_VARIANT ?? "debug";

/** Runs `probe` once on `target` and classifies the run. */
export async function runProbeOnce(probe: Probe, target: CheckTarget): Promise<ProbeRunOutcome> {
  const env: Record<string, string> = { VLSB_NATIVE_VARIANT: VARIANT };
  if (target.prefix) env.VPP_PREFIX = target.prefix;
  const script = isAbsolute(probe.scenario) ? probe.scenario : join(SCENARIOS, `${probe.scenario}.ts`);
  const run = await runProbeProcess(script, [target.backend, ...probe.args(target)], {
    timeoutMs: probe.timeoutMs,
    env,
    keepVppLog: target.backend === "vpp",
  });
  const outcome = classify(run, (result) => probe.judge({ result, stages: run.stages }, target));
  return { ...outcome, elapsedMs: run.elapsedMs };
}

/** Per probe and target: how many runs ended in each outcome, and the details seen. */
export interface ProbeTally {
  probe: string;
  target: string;
  runs: number;
  counts: Record<OutcomeKind, number>;
  /** Each distinct detail (numbers aside) with how often it was seen, most frequent first; the first one seen stands for its kind. */
  details: { kind: OutcomeKind; detail: string; count: number }[];
  /** Runs not `ok`, over runs. */
  failureRate: number;
  /** Median wall time of one run, ms. */
  medianMs: number;
}

/** Counts the outcomes of repeated runs of one probe on one target. */
export function tally(probe: string, target: string, outs: ProbeRunOutcome[]): ProbeTally {
  const counts: Record<OutcomeKind, number> = { ok: 0, differs: 0, crash: 0, hang: 0, error: 0 };
  const seen = new Map<string, { kind: OutcomeKind; detail: string; count: number }>();
  for (const o of outs) {
    counts[o.kind]++;
    if (o.kind === "ok") continue;
    // Details that differ only in their numbers (times, rounds, handles)
    // are one finding: counted together, shown by the first one seen.
    const key = `${o.kind}\u0000${o.detail.replace(/\d+(\.\d+)?/g, "#")}`;
    const d = seen.get(key) ?? { kind: o.kind, detail: o.detail, count: 0 };
    d.count++;
    seen.set(key, d);
  }
  const ms = outs.map((o) => o.elapsedMs).sort((a, b) => a - b);
  return {
    probe, target, runs: outs.length, counts,
    details: [...seen.values()].sort((a, b) => b.count - a.count),
    failureRate: outs.length ? (outs.length - counts.ok) / outs.length : 0,
    medianMs: ms.length ? ms[Math.floor(ms.length / 2)] : 0,
  };
}
