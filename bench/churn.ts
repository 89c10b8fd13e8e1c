/**
 * `bun bench/churn.ts [--cycles 100000] [--mode single|thread|process]`:
 * connect/echo/close cycles against the server; prints its open fds and RSS
 * (forked workers included) at the start and at the end, and the change in %.
 * Exit 1 if a cycle failed or fds did not come back.
 */
import { parseArgs } from "node:util";
import { startServerChild } from "../src/loadgen/server-child.ts";
import { churn, fdCount, rssKb } from "../test/helpers/churn.ts";

const { values } = parseArgs({ options: { cycles: { type: "string" }, mode: { type: "string" }, warm: { type: "string" } } });
const cycles = Number(values.cycles ?? 100_000);
const warm = Number(values.warm ?? 20_000);
const modes = values.mode ? [values.mode] : ["single", "thread", "process"];
let bad = 0;
for (const mode of modes) {
  const srv = await startServerChild({ backend: "kernel", mode, workers: 2, host: "127.0.0.1" });
  await churn(srv.port, warm); // warm: pools, JIT and allocator arenas reach their working size
  await Bun.sleep(300);
  const fd0 = fdCount(srv.proc.pid);
  const rss0 = rssKb(srv.proc.pid);
  const t0 = performance.now();
  let failed = 0;
  const steps: string[] = [];
  for (let q = 1; q <= 4; q++) {
    failed += await churn(srv.port, cycles / 4);
    steps.push((rssKb(srv.proc.pid) / 1024).toFixed(1));
  }
  const secs = (performance.now() - t0) / 1000;
  await Bun.sleep(500);
  const fd1 = fdCount(srv.proc.pid);
  const rss1 = rssKb(srv.proc.pid);
  await srv.stop();
  const pct = (100 * (rss1 - rss0)) / rss0;
  console.log(`${mode}: ${cycles} cycles after ${warm} warm-up cycles, in ${secs.toFixed(1)} s (${(cycles / secs).toFixed(0)}/s), failed ${failed}; fds ${fd0} -> ${fd1}; RSS ${(rss0 / 1024).toFixed(1)} -> ${(rss1 / 1024).toFixed(1)} MiB (${pct >= 0 ? "+" : ""}${pct.toFixed(1)}%; at each quarter ${steps.join(", ")})`);
  if (failed || fd1 !== fd0) bad++;
}
process.exit(bad ? 1 : 0);
