/**
 * Runs one probe (or conformance scenario) body in a process of its own,
 * bounded in time, and reports what happened without judging it: the exit,
 * the signal, whether the watchdog fired, the "stage: ..." lines it wrote
 * to stderr (the last one names the step a crash or hang happened in), and
 * the JSON result line it printed last on stdout, if any.
 *
 * A VLS app is process-global and may crash or hang by design of the
 * hazard being probed, so one process per run: a crash or a hang costs one
 * run, never the caller. On a hang the child first gets SIGUSR2 (the
 * lock-debug build of the native core then writes which thread holds which
 * VLS lock to stderr), then SIGKILL.
 */
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

/** What one probe process did. */
export interface ProbeProcessRun {
  /** Exit code (null when killed by a signal). */
  exitCode: number | null;
  /** The signal that ended it, e.g. "SIGSEGV" (null when it exited). */
  signal: string | null;
  /** The watchdog killed it after the bound. */
  timedOut: boolean;
  elapsedMs: number;
  /** Every "stage: ..." line of stderr, in order, without the prefix. */
  stages: string[];
  /** The last JSON line of stdout, parsed (null when none or not JSON). */
  result: unknown;
  stdout: string;
  stderr: string;
  /** The tail of VPP's log, when the probe ran on VPP and VPP wrote one ("" otherwise). */
  vppLogTail: string;
}

/** How to run a probe process. */
export interface ProbeProcessOptions {
  /** Watchdog bound, ms. */
  timeoutMs: number;
  /** Extra environment (merged over this process's). */
  env?: Record<string, string>;
  /** Keep VPP's log in a file of the runner's (VLSB_VPP_LOG) and return its tail. */
  keepVppLog?: boolean;
}

/** Runs `bun script ...argv` once; never throws for what the child did. */
export async function runProbeProcess(script: string, argv: string[], opts: ProbeProcessOptions): Promise<ProbeProcessRun> {
  const logDir = opts.keepVppLog ? mkdtempSync(join(tmpdir(), "vlsbench-probe-log-")) : null;
  const vppLog = logDir ? join(logDir, "vpp.log") : "";
  const t0 = performance.now();
  const child = Bun.spawn([process.execPath, script, ...argv], {
    stdout: "pipe",
    stderr: "pipe",
    stdin: "ignore",
    env: { ...process.env, ...(opts.env ?? {}), ...(vppLog ? { VLSB_VPP_LOG: vppLog } : {}) },
  });
  let timedOut = false;
  const timer = setTimeout(async () => {
    timedOut = true;
    try {
      child.kill("SIGUSR2");
    } catch {}
    await Bun.sleep(300);
    try {
      child.kill("SIGKILL");
    } catch {}
  }, opts.timeoutMs);
  const [stdout, stderr, code] = await Promise.all([new Response(child.stdout).text(), new Response(child.stderr).text(), child.exited]);
  clearTimeout(timer);
  const elapsedMs = Math.round(performance.now() - t0);
  let vppLogTail = "";
  if (logDir) {
    try {
      vppLogTail = readFileSync(vppLog, "utf8").trim().split("\n").slice(-12).join(" | ");
    } catch {}
    rmSync(logDir, { recursive: true, force: true });
  }
  const line = stdout.trim().split("\n").reverse().find((l) => l.startsWith("{"));
  let result: unknown = null;
  if (line)
    try {
      result = JSON.parse(line);
    } catch {}
  const stages = [...stderr.matchAll(/^stage: (.*)$/gm)].map((m) => m[1]);
  return { exitCode: child.signalCode ? null : code, signal: child.signalCode ? String(child.signalCode) : null, timedOut, elapsedMs, stages, result, stdout, stderr, vppLogTail };
}
