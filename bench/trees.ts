/**
 * `bun bench/trees.ts --before DIR --after DIR` - vlsbench against another
 * checkout of itself (a refactoring, a fix, a tuning): bench:peers and
 * bench:modes, one round each per tree per round, the trees alternated (A B,
 * then B A), medians with min-max and after/before ratios. Each DIR is a
 * vlsbench checkout with its native core built (`npm install` there).
 *
 *   bun bench/trees.ts --before DIR --after DIR [--rounds 5] [--duration 2s]
 */
import { parseArgs } from "node:util";
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { median, table } from "./lib.ts";

const { values } = parseArgs({ options: { before: { type: "string" }, after: { type: "string" }, rounds: { type: "string" }, duration: { type: "string" } } });
const rounds = Number(values.rounds ?? 5);
const duration = values.duration ?? "2s";
if (!values.before || !values.after || !Number.isInteger(rounds) || rounds < 1) {
  console.error("usage: bun bench/trees.ts --before DIR --after DIR [--rounds N>=1] [--duration 2s]");
  process.exit(2);
}
const trees = { before: values.before, after: values.after };
const tmp = mkdtempSync(join(tmpdir(), "vlsbench-trees-"));

/** Every figure of one tree, by name, one value per round. */
type Figures = Map<string, number[]>;
const figures: Record<keyof typeof trees, Figures> = { before: new Map(), after: new Map() };
const add = (f: Figures, k: string, v: number | null | undefined) => {
  if (typeof v === "number" && !Number.isNaN(v)) (f.get(k) ?? f.set(k, []).get(k)!).push(v);
};

/** Runs a benchmark script of a tree; its JSON, or null (reported) if it failed. */
function runScript(dir: string, script: string, file: string): any {
  const p = Bun.spawnSync([process.execPath, join("bench", script), "--rounds", "1", "--duration", duration, "--json", file], { cwd: dir, stdout: "ignore", stderr: "pipe" });
  if (p.exitCode !== 0) console.error(`${dir}: ${script} exited ${p.exitCode}: ${p.stderr.toString().trim().split("\n").pop()}`);
  try {
    return JSON.parse(readFileSync(file, "utf8"));
  } catch {
    return null;
  }
}

/** Reads one round of a tree's bench:peers and bench:modes into its figures. */
function oneRound(tree: keyof typeof trees, r: number): void {
  const f = figures[tree];
  const peers = runScript(trees[tree], "peers.ts", join(tmp, `peers-${tree}-${r}.json`));
  for (const [group, byPeer] of Object.entries((peers ?? {}) as Record<string, Record<string, any[]>>)) {
    const at = group.slice(group.lastIndexOf("@"));
    for (const [name, [m]] of Object.entries(byPeer)) {
      add(f, `peers ${name} ${at} msgs/s`, m.msgsPerSec);
      add(f, `peers ${name} ${at} p50 us`, m.p50);
      add(f, `peers ${name} ${at} FFI calls/msg`, m.ffiPerMsg);
      add(f, `peers ${name} ${at} syscalls/msg`, m.sysPerMsg);
    }
  }
  const modes = runScript(trees[tree], "modes.ts", join(tmp, `modes-${tree}-${r}.json`));
  for (const [mode, [j]] of Object.entries((modes?.runs ?? {}) as Record<string, any[]>)) {
    add(f, `modes ${mode} msgs/s`, j.msgsPerSec);
    add(f, `modes ${mode} p50 us`, j.latencyUs.p50);
    add(f, `modes ${mode} p99 us`, j.latencyUs.p99);
  }
  add(f, "modes migration call p50 us", modes?.migration?.callUs?.p50);
  add(f, "modes migration RPC p50 us", modes?.migration?.rpcUs?.p50);
  console.error(`round ${r + 1}/${rounds} ${tree} done`);
}

for (let r = 0; r < rounds; r++) for (const t of r % 2 ? (["after", "before"] as const) : (["before", "after"] as const)) oneRound(t, r);

const fmt = (v: number) => (Math.abs(v) >= 100 ? v.toFixed(0) : v.toFixed(2));
const spread = (xs: number[]) => `${fmt(median(xs))} (${fmt(Math.min(...xs))}-${fmt(Math.max(...xs))})`;
const rows = [...figures.after].map(([k, a]) => {
  const b = figures.before.get(k) ?? [];
  if (!b.length) return [k, "-", spread(a), "-", "-"];
  const overlap = Math.max(Math.min(...a), Math.min(...b)) <= Math.min(Math.max(...a), Math.max(...b));
  return [k, spread(b), spread(a), (median(a) / median(b)).toFixed(3), overlap ? "yes (within noise)" : "no"];
});
console.log(`before ${trees.before}, after ${trees.after}: ${rounds} alternated rounds of bench:peers and bench:modes (--rounds 1 --duration ${duration} each)`);
console.log(table(["figure", "before median (min-max)", "after median (min-max)", "after/before", "ranges overlap"], rows));
