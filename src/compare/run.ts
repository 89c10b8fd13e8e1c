/**
 * Runs a mode comparison: for each backend x mode, a fresh `bench` child
 * (which starts a fresh server, and VPP for the vpp backend) at a closed-loop
 * point, then every combination again at a fixed rate of about half the
 * slowest closed-loop throughput (median over the rounds); then the
 * migration-cost scenario. With several rounds the combinations alternate
 * round by round (A B C A B C), so a slow spell of the machine lands on
 * every combination rather than on one.
 */
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { findVpp, vppAt, vppVersion, vppNotFoundReason } from "../vpp/find.ts";
import { spreadOf } from "./verdict.ts";

/** What to compare. */
export interface ComparePlan {
  backends: ("kernel" | "vpp")[];
  /** VPP installs to compare, one row set each (`--vpp PREFIX`, repeatable); empty: the VPP `--backend vpp` finds. */
  vppPrefixes?: string[];
  modes: ("single" | "thread" | "process")[];
  quick: boolean;
  /** Rounds of every backend x mode x load point (1 with --quick unless asked). */
  rounds: number;
  serverWorkers: number;
  connections: number;
}

/** One measured point. */
export interface CompareRun {
  /** "kernel", or "vpp VERSION" (the version as that VPP's binary states it). */
  backend: string;
  mode: string;
  point: "closed" | "rate";
  rate: number | null;
  /** 1-based round (absent in reports of version 2: one round). */
  round?: number;
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
  /** 2: `migrations` (one per backend) replaced `migration`; 3: rounds (`rounds`, `round` per run, `rows`, `verdicts` added by the CLI). */
  version: number;
  plan: ComparePlan;
  rounds: number;
  runs: CompareRun[];
  migrations: MigrationRun[];
  notes: string[];
}

const ROOT = join(import.meta.dir, "..", "..");
const BENCH = join(ROOT, "src", "cli", "bench.ts");

/** One backend of a comparison: the embedded model, or one VPP install. */
interface CompareBackend {
  backend: "kernel" | "vpp";
  /** How rows name it: "kernel", "vpp 24.06". */
  label: string;
  /** Environment of its bench children (VPP_PREFIX for a VPP). */
  env: Record<string, string>;
}

/** The plan's backends, one per VPP install; a VPP that is not there becomes a note. */
function compareBackends(plan: ComparePlan, notes: string[]): CompareBackend[] {
  const out: CompareBackend[] = [];
  for (const b of plan.backends) {
    if (b === "kernel") {
      out.push({ backend: "kernel", label: "kernel", env: {} });
      continue;
    }
    const installs = plan.vppPrefixes?.length ? plan.vppPrefixes.map((p) => vppAt(p)) : [findVpp()];
    if (!installs[0] && !plan.vppPrefixes?.length) notes.push(`vpp backend skipped: ${vppNotFoundReason()}`);
    for (const i of installs) {
      if (!i) continue;
      let label = `vpp ${vppVersion(i).short}`;
      if (out.some((o) => o.label === label)) label = `${label} (${i.prefix})`;
      out.push({ backend: "vpp", label, env: { VPP_PREFIX: i.prefix } });
    }
  }
  return out;
}

async function benchChild(args: string[], file: string, env: Record<string, string | undefined>): Promise<any> {
  const p = Bun.spawn([process.execPath, BENCH, ...args, "--json", file], { stdout: "ignore", stderr: "pipe", stdin: "ignore", env });
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
  const backends = compareBackends(plan, notes);
  // Short runs repeated beat one long run: the rounds' spread is what tells
  // a difference from the machine's noise (the default's 3 rounds of 1.5 s
  // keep a kernel + two VPPs comparison within 3 minutes).
  const duration = plan.quick ? "0.6s" : "1.5s";
  const warmup = plan.quick ? "0.25s" : "0.5s";
  const tmp = mkdtempSync(join(tmpdir(), "vlsbench-compare-"));
  const combos = backends.flatMap((backend) => plan.modes.map((mode) => ({ backend, mode })));
  const envOf = (label: string) => ({ ...process.env, ...(backends.find((b) => b.label === label)?.env ?? {}) });
  const total = combos.length * 2 * plan.rounds;
  const runs: CompareRun[] = [];
  let n = 0;
  const one = async (b: CompareBackend, mode: string, rate: number | null, round: number) => {
    const backend = b.label;
    // One load worker at the fixed rate: open-loop workers poll while
    // replies are due, and a second one on a 2-core machine takes the
    // server's CPU (p50 372-548 us against 50 us at 70k msgs/s, kernel).
    const loadWorkers = rate ? "1" : "2";
    const args = ["--backend", b.backend, "--mode", mode, "--server-workers", String(plan.serverWorkers), "--connections", String(plan.connections), "--workers", loadWorkers, "--duration", duration, "--warmup", warmup];
    if (rate) args.push("--rate", String(Math.round(rate)));
    const report = await benchChild(args, join(tmp, `${backend.replace(/\W+/g, "_")}-${mode}-${rate ? "rate" : "closed"}-${round}.json`), envOf(backend));
    const run: CompareRun = { backend, mode, point: rate ? "rate" : "closed", rate, round, report };
    runs.push(run);
    const l = report.latencyUs?.corrected ?? report.latencyUs;
    const of = plan.rounds > 1 ? ` (round ${round}/${plan.rounds})` : "";
    progress(`[${++n}/${total}] ${backend} ${mode} ${rate ? `fixed rate ${Math.round(rate)}/s` : "closed loop"}${of}: ${report.msgsPerSec.toFixed(0)} msgs/s, p50 ${l.p50} us, p99 ${l.p99} us`);
  };
  try {
    for (let round = 1; round <= plan.rounds; round++) for (const c of combos) await one(c.backend, c.mode, null, round);
    const medianOf = (c: (typeof combos)[number]) => spreadOf(runs.filter((r) => r.backend === c.backend.label && r.mode === c.mode).map((r) => r.report.msgsPerSec)).median;
    const slowest = Math.min(...combos.map(medianOf));
    for (let round = 1; round <= plan.rounds; round++) for (const c of combos) await one(c.backend, c.mode, Math.max(100, slowest / 2), round);
    const migrations: MigrationRun[] = [];
    if (plan.modes.includes("thread"))
      for (const b of backends) {
        const backend = b.label;
        const p = Bun.spawn([process.execPath, join(ROOT, "bench", "migration.ts"), "--backend", b.backend, "--sessions", plan.quick ? "200" : "2000", "--load", "1", "--histogram"], { stdout: "pipe", stderr: "pipe", env: envOf(backend) });
        const [out, err] = await Promise.all([new Response(p.stdout).text(), new Response(p.stderr).text()]);
        const code = await p.exited;
        if (code !== 0) {
          // Bun's crash report ends with its version line: name the error instead.
          const lines = err.trim().split("\n");
          const why = lines.findLast((l) => /error|panic|segmentation|signal/i.test(l)) ?? lines.pop();
          notes.push(`migration scenario on ${backend} failed (exit ${code}): ${why?.trim()}`);
          continue;
        }
        const m = { ...(JSON.parse(out.trim().split("\n").pop()!) as MigrationRun), backend };
        migrations.push(m);
        const rpc = !m.rpcLatency.count ? "RPC not observable" : `RPC p50 ${m.rpcUs.p50.toFixed(1)} us, p99 ${m.rpcUs.p99.toFixed(1)} us`;
        progress(`migration cost (${backend}, thread mode, busy owner + ${m.loadThreads} load thread): call p50 ${m.callUs.p50.toFixed(1)} us, p99 ${m.callUs.p99.toFixed(1)} us; ${rpc}`);
      }
    return { version: 3, plan, rounds: plan.rounds, runs, migrations, notes };
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}
