/** Runs a test scenario script in its own Bun process, bounded in time, and
 * parses the last stdout line as JSON. A crash or a hang is a clear error. */
export async function runScenario(script: string, args: string[], timeoutMs: number): Promise<any> {
  const p = Bun.spawn([process.execPath, script, ...args], { stdout: "pipe", stderr: "pipe", stdin: "ignore" });
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    p.kill("SIGKILL");
  }, timeoutMs);
  const [out, err, code] = await Promise.all([new Response(p.stdout).text(), new Response(p.stderr).text(), p.exited]);
  clearTimeout(timer);
  if (timedOut) throw new Error(`${script} hung: killed after ${timeoutMs} ms; stderr: ${err.slice(-500)}`);
  if (code !== 0) throw new Error(`${script} exited ${code} (signal ${p.signalCode}); stderr: ${err.slice(-800)}`);
  return JSON.parse(out.trim().split("\n").pop()!);
}
