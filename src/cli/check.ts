/**
 * `bun run check`: the probe catalog against the embedded model and VPP
 * installs, each probe repeated, each run in its own process, reported as
 * outcomes with rates. Exit 0: everything ran and the embedded model
 * showed the design's behaviour; 1: a probe could not run or the model
 * deviated; 2: misuse.
 */
import { writeFileSync } from "node:fs";
import { parseStrict, runCli, intFlag, UsageError } from "../common/args.ts";

/** `check --help`. */
export const USAGE = `usage: bun run check [options]

Runs every VLS probe (a behaviour of the VLS design, or a known VLS hazard)
on the embedded model and on VPP, each run in a process of its own with a
watchdog, and reports per probe and target how many runs were ok, differs,
crash, hang or error.

  --vpp PREFIX        a VPP install to check (repeatable; default: the VPP
                      --backend vpp would find: VPP_PREFIX or FD.io's packages)
  --no-kernel         leave the embedded model out
  --repeat N          runs per probe and target (default 5)
  --quick             one run each (same as --repeat 1)
  --only LIST         only these probe ids (comma-separated; see --list)
  --list              print the probes and exit
  --json FILE         write the result (every tally, every detail)
  --html FILE         write a self-contained HTML report
  -h, --help          this text
`;

/** The flags `check` accepts (every one is in USAGE: test/cli-help.test.ts). */
export const OPTIONS = {
  vpp: { type: "string", multiple: true },
  "no-kernel": { type: "boolean" },
  repeat: { type: "string" },
  quick: { type: "boolean" },
  only: { type: "string" },
  list: { type: "boolean" },
  json: { type: "string" },
  html: { type: "string" },
  help: { type: "boolean", short: "h" },
} as const;

async function main(argv: string[]): Promise<number> {
  const { values: v } = parseStrict(argv, OPTIONS);
  if (v.help) {
    process.stdout.write(USAGE);
    return 0;
  }
  const { CATALOG } = await import("../check/catalog.ts");
  if (v.list) {
    for (const p of CATALOG) process.stdout.write(`${p.id.padEnd(28)} ${p.kind.padEnd(7)} ${p.behaviour}\n`);
    return 0;
  }
  if (v.quick && v.repeat !== undefined) throw new UsageError("--quick and --repeat exclude each other");
  const repeat = v.quick ? 1 : intFlag("repeat", v.repeat, 5, 1, 1000);
  let probes = CATALOG;
  if (v.only !== undefined) {
    const ids = v.only.split(",").map((s) => s.trim()).filter(Boolean);
    if (!ids.length) throw new UsageError("--only is empty");
    for (const id of ids) if (!CATALOG.some((p) => p.id === id)) throw new UsageError(`--only: no probe '${id}' (see --list)`);
    probes = CATALOG.filter((p) => ids.includes(p.id));
  }
  const { resolveTargets } = await import("../check/targets.ts");
  let resolved;
  try {
    resolved = resolveTargets(v.vpp ?? [], !v["no-kernel"]);
  } catch (e) {
    throw new UsageError((e as Error).message);
  }
  if (!resolved.targets.length) throw new UsageError("nothing to check: --no-kernel and no VPP");
  for (const f of [v.json, v.html]) if (f !== undefined && !f) throw new UsageError("--json/--html need a file name");
  if (resolved.note) process.stderr.write(`note: ${resolved.note}\n`);
  const { runCheck, checkExitStatus } = await import("../check/check-run.ts");
  const { checkReportText } = await import("../check/report-text.ts");
  // Ctrl-C: the run under way ends (the signal reaches it too), the rest
  // is skipped, and what was measured is reported and written.
  let stop = false;
  process.on("SIGINT", () => {
    if (stop) process.exit(130);
    stop = true;
    process.stderr.write("\ncheck: interrupted; reporting the runs that finished (Ctrl-C again to quit at once)\n");
  });
  const result = await runCheck({ probes, targets: resolved.targets, repeat }, (line) => process.stderr.write(line + "\n"), () => stop);
  if (resolved.note) result.notes.push(resolved.note);
  process.stdout.write(checkReportText(result));
  if (v.json) writeFileSync(v.json, JSON.stringify(result, null, 2) + "\n");
  if (v.html) {
    const { checkReportHtml } = await import("../check/report-html.ts");
    const { describeMachine } = await import("../compare/machine.ts");
    writeFileSync(v.html, checkReportHtml(result, describeMachine(result.targets.filter((t) => t.backend === "vpp").map((t) => t.fullVersion).join(", ") || null)));
  }
  return result.interrupted ? 130 : checkExitStatus(result);
}

if (import.meta.main) await runCli("check", () => main(process.argv.slice(2)));
