/**
 * The outcome of one probe run, as `bun run check` reports it:
 *   ok       the VLS behaved as the design says
 *   differs  a defined answer other than the design's (the detail says which)
 *   crash    the process died by a signal (the detail names it and the last stage)
 *   hang     the watchdog fired (the detail names the last stage reached)
 *   error    the probe itself could not run (no result, bad result, setup failed)
 */
import type { ProbeProcessRun } from "./probe-process.ts";

export type OutcomeKind = "ok" | "differs" | "crash" | "hang" | "error";

/** One classified run. */
export interface Outcome {
  kind: OutcomeKind;
  /** One line: what differed, which signal where, where it hung, why it could not run. */
  detail: string;
}

/**
 * What a probe says about its own result: null when it matches the
 * design, else the one-line difference. It may throw when the result is
 * not what the probe body can produce (then the run is an `error`).
 */
export type Judge<R> = (result: R) => string | null;

/** Classifies a finished probe process with the probe's judge. */
export function classify<R>(run: ProbeProcessRun, judge: Judge<R>): Outcome {
  const last = run.stages.at(-1) ?? "(no stage reported)";
  if (run.timedOut) return { kind: "hang", detail: `no answer after ${run.elapsedMs} ms, last stage: ${last}` };
  if (run.signal) return { kind: "crash", detail: `${run.signal}, last stage: ${last}` };
  if (run.exitCode !== 0) return { kind: "error", detail: `exit ${run.exitCode}: ${lastErrorLine(run.stderr)}` };
  if (run.result === null) return { kind: "error", detail: "no JSON result printed" };
  try {
    const diff = judge(run.result as R);
    return diff === null ? { kind: "ok", detail: "" } : { kind: "differs", detail: diff };
  } catch (e) {
    return { kind: "error", detail: `bad result: ${(e as Error).message}` };
  }
}

function lastErrorLine(stderr: string): string {
  const lines = stderr.trim().split("\n").filter((l) => l && !l.startsWith("stage: ") && !/^\s+at /.test(l));
  return (lines.at(-1) ?? "(no stderr)").slice(0, 300);
}
