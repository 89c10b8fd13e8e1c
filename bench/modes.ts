/**
 * `bun run bench:modes` - what each VLS mode costs on the kernel backend:
 * the server in single, thread and process mode (2 workers) under the same
 * closed-loop load (32 connections, 64 B), alternating modes round by round,
 * medians printed; then the cost of one migration. Every byte is verified:
 * any error is printed and makes the exit status 1.
 *
 *   bun bench/modes.ts [--rounds 3] [--duration 3s] [--connections 32] [--json FILE]
 */
import { parseArgs } from "node:util";
import { writeFileSync, mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { alternate, median, table, runJsonChild } from "./lib.ts";

const { values } = parseArgs({ options: { rounds: { type: "string" }, duration: { type: "string" }, connections: { type: "string" }, json: { type: "string" } } });
const rounds = Number(values.rounds ?? 3);
const duration = values.duration ?? "3s";
const connections = values.connections ?? "32";
const modes = ["single", "thread", "process"];
const tmp = mkdtempSync(join(tmpdir(), "vlsbench-modes-"));
const BENCH = join(import.meta.dir, "..", "src", "cli", "bench.ts");

let errors = 0;
const runs = await alternate(rounds, modes, async (mode, r) => {
  const file = join(tmp, `${mode}-${r}.json`);
  const p = Bun.spawn([process.execPath, BENCH, "--mode", mode, "--server-workers", "2", "--connections", connections, "--workers", "2", "--duration", duration, "--warmup", "1s", "--json", file], { stdout: "ignore", stderr: "inherit" });
  await p.exited;
  const j = JSON.parse(readFileSync(file, "utf8"));
  const e = Object.values(j.errors as Record<string, number>).reduce((a, b) => a + b, 0);
  errors += e;
  console.error(`round ${r + 1} ${mode}: ${j.msgsPerSec.toFixed(0)} msgs/s p50 ${j.latencyUs.p50} us p99 ${j.latencyUs.p99} us errors ${e}`);
  return j;
});

const rows = modes.map((m) => {
  const js = runs.get(m)!;
  const locks = js[js.length - 1].server?.counters?.native?.locks ?? {};
  const contended = Object.entries(locks as Record<string, { acquired: number; contended: number }>)
    .filter(([, l]) => l.acquired > 0)
    .map(([k, l]) => `${k} ${((100 * l.contended) / l.acquired).toFixed(1)}%`)
    .join(" ");
  return [m, median(js.map((j) => j.msgsPerSec)).toFixed(0), median(js.map((j) => j.latencyUs.p50)).toFixed(1), median(js.map((j) => j.latencyUs.p99)).toFixed(1), contended || "no lock taken"];
});
console.log(`kernel backend, server 2 workers, ${connections} connections x 64 B closed loop, ${duration} per run, median of ${rounds} alternating rounds`);
console.log(table(["mode", "msgs/s", "p50 us", "p99 us", "contended share per lock (last round)"], rows));
const mig = await runJsonChild(join(import.meta.dir, "migration.ts"), ["--sessions", "2000"]);
console.log(`migration cost (thread mode): call p50 ${mig.callUs.p50.toFixed(1)} us, p99 ${mig.callUs.p99.toFixed(1)} us; RPC p50 ${mig.rpcUs.p50.toFixed(1)} us (${mig.ok} migrations, ${mig.failed} failed)`);
console.log(`bytes lost or corrupted: ${errors === 0 ? "none" : errors + " errors"}`);
if (values.json) writeFileSync(values.json, JSON.stringify({ rows, migration: mig, runs: Object.fromEntries(runs) }, null, 2));
process.exit(errors ? 1 : 0);
