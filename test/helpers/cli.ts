/** Runs the project's CLIs as child processes, bounded in time. */
import { join } from "node:path";

export const ROOT = join(import.meta.dir, "..", "..");
export const SERVER = join(ROOT, "src", "cli", "server.ts");
export const BENCH = join(ROOT, "src", "cli", "bench.ts");
export const CHECK = join(ROOT, "src", "cli", "check.ts");

/** Runs a CLI to completion (killed after timeoutMs); returns its output. */
export async function runCli(script: string, args: string[], timeoutMs = 60_000, env: Record<string, string> = {}) {
  const proc = Bun.spawn([process.execPath, script, ...args], { stdout: "pipe", stderr: "pipe", stdin: "ignore", env: { ...process.env, ...env } });
  const timer = setTimeout(() => proc.kill("SIGKILL"), timeoutMs);
  const [stdout, stderr, code] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited]);
  clearTimeout(timer);
  return { code, stdout, stderr, signal: proc.signalCode };
}
