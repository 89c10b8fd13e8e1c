/**
 * `bun run bench --compare`: every backend x mode side by side, and
 * `bun run bench diff a.json b.json`. Entry points called by bench.ts.
 */
import { writeFileSync, readFileSync } from "node:fs";
import { parseStrict, intFlag, UsageError } from "../common/args.ts";
import { vppAt } from "../vpp/find.ts";
import { writableFileFlag } from "../report/output-path.ts";

/** `bench --compare --help` (and a part of `bench --help`). */
export const USAGE = `usage: bun run bench --compare [options]

Runs every backend x mode side by side against a started server each and
prints one table.

  --modes LIST             modes to compare (default single,thread,process)
  --backends LIST          backends (default kernel,vpp; vpp only when found)
  --vpp PREFIX             a VPP install to compare (repeatable: one set of rows
                           per VPP, named by its version; default: the VPP
                           --backend vpp finds)
  --rounds N               rounds of every backend x mode x point, alternated
                           (default 3; with --quick 1); a best is marked and a
                           difference called only beyond the rounds' spread
  --quick                  short single-round runs (about 8 s kernel only, 19 s with VPP)
  --server-workers N       server workers per run (default 2)
  --connections C          connections of the closed-loop point (default 32)
  --html FILE              write a self-contained HTML report
  --json FILE              write every run, with its histogram
  -h, --help               this text
`;

/** `bench diff --help` (and a part of `bench --help`). */
export const DIFF_USAGE = `usage: bun run bench diff A.json B.json

Compares two reports written by bench --json.

  -h, --help               this text
`;

/** The flags `bench --compare` accepts (every one is in USAGE: test/cli-help.test.ts). */
export const OPTIONS = {
  compare: { type: "boolean" },
  modes: { type: "string" },
  backends: { type: "string" },
  vpp: { type: "string", multiple: true },
  quick: { type: "boolean" },
  rounds: { type: "string" },
  "server-workers": { type: "string" },
  connections: { type: "string" },
  html: { type: "string" },
  json: { type: "string" },
  help: { type: "boolean", short: "h" },
} as const;

function listFlag<T extends string>(name: string, v: string | undefined, all: readonly T[]): T[] {
  if (v === undefined) return [...all];
  const xs = v.split(",").map((s) => s.trim());
  for (const x of xs) if (!all.includes(x as T)) throw new UsageError(`--${name} takes a list of ${all.join(",")}, got '${x}'`);
  if (!xs.length) throw new UsageError(`--${name} is empty`);
  return [...new Set(xs)] as T[];
}

/** --vpp PREFIX (repeatable): each must hold a VPP. */
function vppPrefixesFlag(v: string[] | undefined): string[] {
  for (const p of v ?? []) if (!vppAt(p)) throw new UsageError(`--vpp ${p}: no VPP there (bin/vpp, bin/vppctl and lib/.../libvppcom.so)`);
  return v ?? [];
}

/** `bench --compare ...`; returns the exit status. */
export async function compareMain(argv: string[]): Promise<number> {
  const { values: v } = parseStrict(argv, OPTIONS);
  if (v.help) {
    process.stdout.write(USAGE);
    return 0;
  }
  const plan = {
    modes: listFlag("modes", v.modes, ["single", "thread", "process"] as const),
    backends: listFlag("backends", v.backends, ["kernel", "vpp"] as const),
    vppPrefixes: vppPrefixesFlag(v.vpp),
    quick: v.quick ?? false,
    rounds: intFlag("rounds", v.rounds, v.quick ? 1 : 3, 1, 100),
    serverWorkers: intFlag("server-workers", v["server-workers"], 2, 1, 32),
    connections: intFlag("connections", v.connections, 32, 1, 10_000),
  };
  const html = writableFileFlag("html", v.html);
  const json = writableFileFlag("json", v.json);
  const { runCompare } = await import("../compare/run.ts");
  const { cellsOf, verdictsOf, cellJson } = await import("../compare/rounds.ts");
  const { compareTable } = await import("../compare/table.ts");
  const { describeMachine } = await import("../compare/machine.ts");
  const t0 = performance.now();
  const result = await runCompare(plan, (line) => process.stderr.write(line + "\n"));
  const cells = cellsOf(result.runs);
  const verdicts = verdictsOf(cells);
  process.stdout.write(compareTable(cells, verdicts) + "\n");
  if (result.migrations.length) process.stdout.write("\nmigration under load (thread mode, busy owner + 1 load thread), the migrating call:\n");
  for (const m of result.migrations) {
    const rpc = m.rpcLatency.count ? `; RPC p50 ${m.rpcUs.p50.toFixed(1)} us, p99 ${m.rpcUs.p99.toFixed(1)} us` : "; RPC not observable";
    process.stdout.write(`${m.backend.padEnd(15)} p50 ${m.callUs.p50.toFixed(1)} us, p99 ${m.callUs.p99.toFixed(1)} us, ${m.ok} ok, ${m.failed} failed${rpc}\n`);
  }
  for (const n of result.notes) process.stdout.write(`note: ${n}\n`);
  process.stdout.write(`(${((performance.now() - t0) / 1000).toFixed(1)} s)\n`);
  const vppVersion = [...new Set(result.runs.map((r) => r.report.config?.vppVersion).filter((v) => typeof v === "string"))].join(", ") || null;
  const machine = describeMachine(vppVersion);
  if (json) writeFileSync(json, JSON.stringify({ ...result, rows: cells.map(cellJson), verdicts, machine }, null, 2) + "\n");
  if (html) {
    const { compareHtml } = await import("../compare/html.ts");
    writeFileSync(html, compareHtml(result, cells, verdicts, machine));
  }
  return cells.some((c) => c.rounds.some((r) => r.errors > 0)) ? 1 : 0;
}

/** `bench diff A.json B.json`; returns the exit status. */
export async function diffMain(argv: string[]): Promise<number> {
  if (argv.length === 1 && (argv[0] === "--help" || argv[0] === "-h")) {
    process.stdout.write(DIFF_USAGE);
    return 0;
  }
  if (argv.length !== 2) throw new UsageError("diff takes two report files: bench diff A.json B.json");
  const read = (f: string) => {
    try {
      return JSON.parse(readFileSync(f, "utf8"));
    } catch (e) {
      throw new UsageError(`cannot read report ${f}: ${(e as Error).message.split("\n")[0]}`);
    }
  };
  const { diffReports } = await import("../compare/diff.ts");
  process.stdout.write(diffReports(read(argv[0]), read(argv[1])) + "\n");
  return 0;
}

if (import.meta.main) {
  const { runCli } = await import("../common/args.ts");
  runCli("bench", () => compareMain(process.argv.slice(2)));
}
