/**
 * Runs a mode comparison: for each backend x mode, a fresh `bench` child
 * (which starts a fresh server, and VPP for the vpp backend) at a closed-loop
 * point, then every combination again at a fixed rate of about half the
 * slowest closed-loop throughput; then the migration-cost scenario.
 */
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { findVpp, vppNotFoundReason } from "../vpp/find.ts";

/** What to compare. */
export interface ComparePlan {
  backends: ("kernel" | "vpp")[];
  modes: ("single" | "thread" | "process")[];
  quick: boolean;
  serverWorkers: number;
  connections: number;
}

/** One measured point. */
export interface CompareRun {
  backend: string;
  mode: string;
  point: "closed" | "rate";
  rate: number | null;
  /** The bench JSON report of the run. */
  report: any;
}

/** The whole comparison (what --json writes). */
export interface CompareResult {
  version: number;
  plan: ComparePlan;
  runs: CompareRun[];
  migration: any | null;
  notes: string[];
}

const ROOT = join(import.meta.dir, "..", "..");
const BENCH = join(ROOT, "src", "cli", "bench.ts");

async function benchChild(args: string[], file: string): Promise<any> {
  const p = Bun.spawn([process.execPath, BENCH, ...args, "--json", file], { stdout: "ignore", stderr: "pipe", stdin: "ignore" });
  const err = await new Response(p.stderr).text();
  const code = await p.exited;
  try {
    return JSON.parse(readFileSync(file, "utf8"));
  } catch {
    throw new Error(`bench ${args.join(" ")} exited ${code} without a report: ${err.trim().split("\n").slice(-2).join(" | ")}`);
  }
}

/** Runs the plan, reporting progress through `progress`. */
export async function runCompare(plan: ComparePlan, progress: (line: string) => void): Promise<CompareResult> {
  const notes: string[] = [];
  const backends = plan.backends.filter((b) => {
    if (b === "vpp" && !findVpp()) {
      notes.push(`vpp backend skipped: ${vppNotFoundReason()}`);
      return false;
    }
    return true;
  });
  const duration = plan.quick ? "1s" : "5s";
  const warmup = plan.quick ? "0.5s" : "1s";
  const tmp = mkdtempSync(join(tmpdir(), "vlsbench-compare-"));
  const combos = backends.flatMap((backend) => plan.modes.map((mode) => ({ backend, mode })));
  const total = combos.length * 2;
  const runs: CompareRun[] = [];
  let n = 0;
  const one = async (backend: string, mode: string, rate: number | null) => {
    const args = ["--backend", backend, "--mode", mode, "--server-workers", String(plan.serverWorkers), "--connections", String(plan.connections), "--workers", "2", "--duration", duration, "--warmup", warmup];
    if (rate) args.push("--rate", String(Math.round(rate)));
    const report = await benchChild(args, join(tmp, `${backend}-${mode}-${rate ? "rate" : "closed"}.json`));
    const run: CompareRun = { backend, mode, point: rate ? "rate" : "closed", rate, report };
    runs.push(run);
    const l = report.latencyUs?.corrected ?? report.latencyUs;
    progress(`[${++n}/${total}] ${backend} ${mode} ${rate ? `fixed rate ${Math.round(rate)}/s` : "closed loop"}: ${report.msgsPerSec.toFixed(0)} msgs/s, p50 ${l.p50} us, p99 ${l.p99} us`);
  };
  try {
    for (const c of combos) await one(c.backend, c.mode, null);
    const slowest = Math.min(...runs.map((r) => r.report.msgsPerSec));
    for (const c of combos) await one(c.backend, c.mode, Math.max(100, slowest / 2));
    let migration = null;
    if (backends.includes("kernel") && plan.modes.includes("thread")) {
      const p = Bun.spawn([process.execPath, join(ROOT, "bench", "migration.ts"), "--sessions", plan.quick ? "300" : "2000", "--histogram"], { stdout: "pipe", stderr: "ignore" });
      const out = await new Response(p.stdout).text();
      if ((await p.exited) === 0) migration = JSON.parse(out.trim().split("\n").pop()!);
      else notes.push("migration scenario failed");
      if (migration) progress(`migration cost (kernel, thread mode): RPC p50 ${migration.rpcUs.p50.toFixed(1)} us, p99 ${migration.rpcUs.p99.toFixed(1)} us`);
    }
    return { version: 1, plan, runs, migration, notes };
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}
