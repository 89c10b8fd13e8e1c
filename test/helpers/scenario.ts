/**
 * Runs a test scenario in its own Bun process (the VLS app is process-global,
 * process mode forks, and a crash must fail a test, not the runner), bounded
 * in time, expecting one JSON line as the last line of stdout.
 *
 * Scenarios run on the lock-debug build of the native core unless
 * VLSB_NATIVE_VARIANT says otherwise: when one hangs, it is first sent
 * SIGUSR2 (the debug build then writes which thread holds which VLS lock to
 * stderr), then SIGKILL, and the error carries that stderr. Scenarios may
 * write "stage: ..." lines to stderr, so a hang names the step it hung in.
 * A scenario on the vpp backend (argv[0] "vpp") keeps VPP's log in a file
 * of the runner's (VLSB_VPP_LOG): a failure names the VPP version and ends
 * with the tail of that log, so a CI failure can be read without a rerun.
 */
import { basename } from "node:path";
import { findVpp, vppVersion } from "../../src/vpp/find.ts";
import { runProbeProcess, type ProbeProcessRun } from "../../src/check/probe-process.ts";

export interface ScenarioRun<T> {
  /** The parsed JSON line. */
  result: T;
  /** Wall time of the whole child process, ms. */
  elapsedMs: number;
  /** The child's stderr (stage lines, diagnostics). */
  stderr: string;
}

let lastVppDiagnostics = "";
/**
 * What the last vpp-backend scenario left to read: its VPP version, the
 * tail of its stderr and of VPP's log ("" when none ran). A test that fails
 * on a result (not on the run itself) appends this to its error.
 */
export function lastVppRunDiagnostics(): string {
  return lastVppDiagnostics;
}

const tail = (s: string, n: number) => (s.length > n ? "…" + s.slice(-n) : s).trim();

/**
 * Runs a scenario script with argv. Rejects with a clear message when the
 * child hangs past timeoutMs (then it is killed), exits non-zero, dies by a
 * signal, or prints no JSON line.
 */
export async function runScript<T = any>(script: string, argv: string[], timeoutMs: number): Promise<ScenarioRun<T>> {
  const onVpp = argv[0] === "vpp";
  const install = onVpp ? findVpp() : null;
  const label = `scenario ${basename(script, ".ts")} ${argv.join(" ")}${install ? ` (VPP ${vppVersion(install).full})` : ""}`;
  const run = await runScenarioProcess(script, argv, timeoutMs);
  const { stderr: err, stdout: out } = run;
  const vppTail = onVpp ? `; VPP log tail: ${run.vppLogTail || "(empty)"}` : "";
  if (run.timedOut) {
    const stage = run.stages.at(-1) ?? "(no stage reported)";
    throw new Error(`${label} HUNG: killed after ${timeoutMs} ms, last stage: ${stage}; stderr: ${tail(err, 1500)}${vppTail}`);
  }
  if (run.exitCode !== 0 || run.signal)
    throw new Error(`${label} failed: exit code ${run.exitCode ?? 128}${run.signal ? `, signal ${run.signal}` : ""}; stderr: ${tail(err, 2000)}${vppTail}`);
  if (run.result === null) throw new Error(`${label} printed no JSON result; stdout: ${tail(out, 500)}; stderr: ${tail(err, 1000)}${vppTail}`);
  return { result: run.result as T, elapsedMs: run.elapsedMs, stderr: err };
}

/**
 * Runs a scenario script once without judging it (src/check's probe
 * process: exit, signal, hang, stages, result), on the lock-debug build
 * unless VLSB_NATIVE_VARIANT says otherwise, keeping VPP's log on vpp.
 */
export async function runScenarioProcess(script: string, argv: string[], timeoutMs: number): Promise<ProbeProcessRun> {
  const onVpp = argv[0] === "vpp";
  const run = await runProbeProcess(script, argv, { timeoutMs, keepVppLog: onVpp, env: { VLSB_NATIVE_VARIANT: process.env.VLSB_NATIVE_VARIANT ?? "debug" } });
  if (onVpp) {
    const install = findVpp();
    const label = `scenario ${basename(script, ".ts")} ${argv.join(" ")}${install ? ` (VPP ${vppVersion(install).full})` : ""}`;
    lastVppDiagnostics = `${label}: ${run.timedOut ? "hung, " : run.signal ? `${run.signal}, ` : ""}stderr: ${tail(run.stderr, 1500) || "(empty)"}; VPP log tail: ${run.vppLogTail || "(empty)"}`;
  }
  return run;
}

/** runScript, returning only the parsed result. */
export async function runScenario(script: string, argv: string[], timeoutMs: number): Promise<any> {
  return (await runScript(script, argv, timeoutMs)).result;
}
