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
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { basename, join } from "node:path";
import { findVpp, vppVersion } from "../../src/vpp/find.ts";

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
  const logDir = onVpp ? mkdtempSync(join(tmpdir(), "vlsbench-scenario-log-")) : null;
  const vppLog = logDir ? join(logDir, "vpp.log") : "";
  const t0 = performance.now();
  const child = Bun.spawn([process.execPath, script, ...argv], {
    stdout: "pipe",
    stderr: "pipe",
    stdin: "ignore",
    env: { ...process.env, VLSB_NATIVE_VARIANT: process.env.VLSB_NATIVE_VARIANT ?? "debug", ...(vppLog ? { VLSB_VPP_LOG: vppLog } : {}) },
  });
  let timedOut = false;
  const timer = setTimeout(async () => {
    timedOut = true;
    try {
      child.kill("SIGUSR2"); // lock-debug build: dump lock owners to stderr
    } catch {}
    await Bun.sleep(300);
    try {
      child.kill("SIGKILL");
    } catch {}
  }, timeoutMs);
  const [out, err, code] = await Promise.all([new Response(child.stdout).text(), new Response(child.stderr).text(), child.exited]);
  clearTimeout(timer);
  const elapsedMs = Math.round(performance.now() - t0);
  let vppTail = "";
  if (logDir) {
    try {
      vppTail = `; VPP log tail: ${readFileSync(vppLog, "utf8").trim().split("\n").slice(-12).join(" | ") || "(empty)"}`;
    } catch {
      vppTail = "; VPP log: (none written)";
    }
    rmSync(logDir, { recursive: true, force: true });
    lastVppDiagnostics = `${label}: stderr: ${tail(err, 1500) || "(empty)"}${vppTail}`;
  }
  if (timedOut) {
    const stage = [...err.matchAll(/^stage: (.*)$/gm)].pop()?.[1] ?? "(no stage reported)";
    throw new Error(`${label} HUNG: killed after ${timeoutMs} ms, last stage: ${stage}; stderr: ${tail(err, 1500)}${vppTail}`);
  }
  if (code !== 0 || child.signalCode)
    throw new Error(`${label} failed: exit code ${code}${child.signalCode ? `, signal ${child.signalCode}` : ""}; stderr: ${tail(err, 2000)}${vppTail}`);
  const line = out.trim().split("\n").reverse().find((l) => l.startsWith("{"));
  if (!line) throw new Error(`${label} printed no JSON result; stdout: ${tail(out, 500)}; stderr: ${tail(err, 1000)}${vppTail}`);
  let result: T;
  try {
    result = JSON.parse(line) as T;
  } catch (e) {
    throw new Error(`${label} printed bad JSON (${(e as Error).message}): ${tail(line, 500)}`);
  }
  return { result, elapsedMs, stderr: err };
}

/** runScript, returning only the parsed result. */
export async function runScenario(script: string, argv: string[], timeoutMs: number): Promise<any> {
  return (await runScript(script, argv, timeoutMs)).result;
}
