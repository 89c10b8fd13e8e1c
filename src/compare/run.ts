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

/** The migration-cost scenario on one backend (bench/migration.ts's result). */
export interface MigrationRun {
  backend: string;
  loadThreads: number;
  sessions: number;
  ok: number;
  failed: number;
  callUs: { p50: number; p99: number };
  rpcUs: { p50: number; p99: number };
  callLatency: { count: number; histogram: string };
  rpcLatency: { count: number; histogram: string };
}

/** The whole comparison (what --json writes). */
export interface CompareResult {
  /** 2: `migrations` (one per backend) replaced `migration`. */
  version: number;
  plan: ComparePlan;
  runs: CompareRun[];
  migrations: MigrationRun[];
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
  const duration = plan.quick ? "0.6s" : "4s";
  const warmup = plan.quick ? "0.25s" : "1s";
  const tmp = mkdtempSync(join(tmpdir(), "vlsbench-compare-"));
  const combos = backends.flatMap((backend) => plan.modes.map((mode) => ({ backend, mode })));
  const total = combos.length * 2;
  const runs: CompareRun[] = [];
  let n = 0;
  const one = async (backend: string, mode: string, rate: number | null) => {
    // One load worker at the fixed rate: open-loop workers poll while
    // replies are due, and a second one on a 2-core machine takes the
    // server's CPU (p50 372-548 us against 50 us at 70k msgs/s, kernel).
    const loadWorkers = rate ? "1" : "2";
    const args = ["--backend", backend, "--mode", mode, "--server-workers", String(plan.serverWorkers), "--connections", String(plan.connections), "--workers", loadWorkers, "--duration", duration, "--warmup", warmup];
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
    const migrations: MigrationRun[] = [];
    if (plan.modes.includes("thread"))
      for (const backend of backends) {
        const p = Bun.spawn([process.execPath, join(ROOT, "bench", "migration.ts"), "--backend", backend, "--sessions", plan.quick ? "200" : "2000", "--load", "1", "--histogram"], { stdout: "pipe", stderr: "pipe" });
        const [out, err] = await Promise.all([new Response(p.stdout).text(), new Response(p.stderr).text()]);
        if ((await p.exited) !== 0) {
          notes.push(`migration scenario on ${backend} failed: ${err.trim().split("\n").pop()}`);
          continue;
        }
        const m = JSON.parse(out.trim().split("\n").pop()!) as MigrationRun;
        migrations.push(m);
        const rpc = !m.rpcLatency.count ? "RPC not observable" : `RPC p50 ${m.rpcUs.p50.toFixed(1)} us, p99 ${m.rpcUs.p99.toFixed(1)} us`;
        progress(`migration cost (${backend}, thread mode, busy owner + ${m.loadThreads} load thread): call p50 ${m.callUs.p50.toFixed(1)} us, p99 ${m.callUs.p99.toFixed(1)} us; ${rpc}`);
      }
    return { version: 2, plan, runs, migrations, notes };
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}
