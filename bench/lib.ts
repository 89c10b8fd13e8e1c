/** Shared helpers of the benchmarks: medians, alternation, tables. */

/** Median of numbers (NaN for none). */
export function median(xs: number[]): number {
  if (!xs.length) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

/** Runs each variant once per round, interleaved (A B A B ...), so drift of
 * a noisy 2-core machine hits all variants alike. */
export async function alternate<V, R>(rounds: number, variants: V[], run: (v: V, round: number) => Promise<R>): Promise<Map<V, R[]>> {
  const out = new Map<V, R[]>(variants.map((v) => [v, []]));
  for (let r = 0; r < rounds; r++) for (const v of variants) out.get(v)!.push(await run(v, r));
  return out;
}

/** A fixed-width text table. */
export function table(header: string[], rows: (string | number)[][]): string {
  const cells = [header, ...rows.map((r) => r.map(String))];
  const w = header.map((_, i) => Math.max(...cells.map((r) => (r[i] ?? "").length)));
  return cells.map((r) => r.map((c, i) => (i === 0 ? c.padEnd(w[i]) : c.padStart(w[i]))).join("  ")).join("\n");
}

/** Runs a bun script with env, returns its last stdout line parsed as JSON. */
export async function runJsonChild(script: string, args: string[], env: Record<string, string> = {}, timeoutMs = 120_000): Promise<any> {
  const p = Bun.spawn([process.execPath, script, ...args], { env: { ...process.env, ...env }, stdout: "pipe", stderr: "inherit" });
  const timer = setTimeout(() => p.kill("SIGKILL"), timeoutMs);
  const out = await new Response(p.stdout).text();
  clearTimeout(timer);
  if ((await p.exited) !== 0) throw new Error(`${script} ${args.join(" ")} exited ${p.exitCode}`);
  return JSON.parse(out.trim().split("\n").pop()!);
}
