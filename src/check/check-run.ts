/**
 * One `bun run check`: every probe of the plan, `repeat` times on every
 * target it applies to. The runs go round by round (all probes on all
 * targets, then again), so a burst of load on the machine spreads over
 * every cell instead of landing on one.
 */
import { runProbeOnce, tally, type CheckTarget, type ProbeRunOutcome, type ProbeTally } from "./runner.ts";
import type { Probe } from "./probe.ts";

/** What to run. */
export interface CheckPlan {
  probes: readonly Probe[];
  targets: (CheckTarget & { fullVersion?: string })[];
  repeat: number;
}

/** A check's result: the JSON `--json` writes. */
export interface CheckResult {
  tool: "vlsbench check";
  startedAt: string;
  elapsedMs: number;
  repeat: number;
  /** Stopped early (Ctrl-C): the tallies hold the runs that finished. */
  interrupted: boolean;
  targets: { label: string; backend: string; version: string; fullVersion: string; vls: string; prefix: string }[];
  probes: { id: string; kind: string; behaviour: string; scenario: string; timeoutMs: number }[];
  /** One per probe and target it applies to. */
  tallies: ProbeTally[];
  notes: string[];
}

/** Whether a probe runs on a target. */
export const appliesTo = (p: Probe, t: CheckTarget) => !p.backends || p.backends.includes(t.backend);

/**
 * Runs the plan. `progress` gets one line per run; `stopRequested` is
 * looked at between runs (a run under way is finished first).
 */
export async function runCheck(plan: CheckPlan, progress: (line: string) => void, stopRequested: () => boolean): Promise<CheckResult> {
  const t0 = performance.now();
  const startedAt = new Date().toISOString();
  const outs = new Map<string, ProbeRunOutcome[]>();
  const key = (p: Probe, t: CheckTarget) => `${p.id}\u0000${t.label}`;
  const cells = plan.probes.flatMap((p) => plan.targets.filter((t) => appliesTo(p, t)).map((t) => ({ p, t })));
  const total = cells.length * plan.repeat;
  let done = 0;
  let interrupted = false;
  outer: for (let round = 1; round <= plan.repeat; round++)
    for (const { p, t } of cells) {
      if (stopRequested()) {
        interrupted = true;
        break outer;
      }
      const o = await runProbeOnce(p, t);
      // A run cut by the user's Ctrl-C (it reaches the child too) is not a finding.
      if (stopRequested()) {
        interrupted = true;
        break outer;
      }
      (outs.get(key(p, t)) ?? outs.set(key(p, t), []).get(key(p, t))!).push(o);
      done++;
      progress(`[${done}/${total}] round ${round} ${p.id} on ${t.label}: ${o.kind}${o.detail ? ` (${o.detail})` : ""} ${(o.elapsedMs / 1000).toFixed(1)} s`);
    }
  return {
    tool: "vlsbench check",
    startedAt,
    elapsedMs: Math.round(performance.now() - t0),
    repeat: plan.repeat,
    interrupted,
    targets: plan.targets.map((t) => ({ label: t.label, backend: t.backend, version: t.version, fullVersion: t.fullVersion ?? t.version, vls: t.vls, prefix: t.prefix })),
    probes: plan.probes.map((p) => ({ id: p.id, kind: p.kind, behaviour: p.behaviour, scenario: p.scenario, timeoutMs: p.timeoutMs })),
    tallies: cells.map(({ p, t }) => tally(p.id, t.label, outs.get(key(p, t)) ?? [])),
    notes: [],
  };
}

/**
 * The exit status of a check: 0 when every run ended classified and the
 * embedded model showed the design's behaviour in every run (what VPP
 * shows is the finding, not a failure); 1 when a probe could not run
 * (`error`) or the embedded model deviated.
 */
export function checkExitStatus(r: CheckResult): number {
  const kernelLabels = new Set(r.targets.filter((t) => t.backend === "kernel").map((t) => t.label));
  for (const t of r.tallies) {
    if (t.counts.error > 0) return 1;
    if (kernelLabels.has(t.target) && t.counts.ok !== t.runs) return 1;
  }
  return 0;
}
