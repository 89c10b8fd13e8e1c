/** Runs a test scenario script in its own Bun process, bounded in time, and
 * parses the last stdout line as JSON. A crash or a hang is a clear error.
 * Scenarios run on the lock-debug build: when one hangs, the watchdog asks
 * it for its lock owners (SIGUSR2) before killing it, and the error says
 * which thread holds which lock. */
export async function runScenario(script: string, args: string[], timeoutMs: number): Promise<any> {
  const p = Bun.spawn([process.execPath, script, ...args], { stdout: "pipe", stderr: "pipe", stdin: "ignore", env: { ...process.env, VLSB_NATIVE_VARIANT: "debug" } });
  let timedOut = false;
  const timer = setTimeout(async () => {
    timedOut = true;
    p.kill("SIGUSR2");
    await Bun.sleep(300);
    p.kill("SIGKILL");
  }, timeoutMs);
  const [out, err, code] = await Promise.all([new Response(p.stdout).text(), new Response(p.stderr).text(), p.exited]);
  clearTimeout(timer);
  if (timedOut) throw new Error(`${script} hung: killed after ${timeoutMs} ms; stderr: ${err.slice(-500)}`);
  if (code !== 0) throw new Error(`${script} exited ${code} (signal ${p.signalCode}); stderr: ${err.slice(-800)}`);
  return JSON.parse(out.trim().split("\n").pop()!);
}
