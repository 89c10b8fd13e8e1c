/**
 * Every command's --help names every flag its parser accepts, so a flag
 * added to a parser without a line in the help fails here.
 */
import { describe, expect, test } from "bun:test";
import { runCli, SERVER, BENCH, CHECK } from "./helpers/cli.ts";
import { OPTIONS as serverOptions } from "../src/cli/server.ts";
import { OPTIONS as benchOptions } from "../src/cli/bench.ts";
import { OPTIONS as checkOptions } from "../src/cli/check.ts";
import { OPTIONS as compareOptions } from "../src/cli/compare.ts";
import { OPTIONS as mergeOptions } from "../src/loadgen/merge-command.ts";

type Options = Record<string, { type: string; short?: string }>;

/** The flags of `options` that `help` does not name. */
function unnamed(help: string, options: Options): string[] {
  const named = new Set(help.match(/(?<![\w-])--?[\w-]+/g) ?? []);
  return Object.entries(options).flatMap(([name, o]) => [`--${name}`, ...(o.short ? [`-${o.short}`] : [])]).filter((f) => !named.has(f));
}

const cases: [string, string, string[], Options][] = [
  ["server --help", SERVER, ["--help"], serverOptions],
  ["bench --help", BENCH, ["--help"], benchOptions],
  ["check --help", CHECK, ["--help"], checkOptions],
  ["bench --compare --help", BENCH, ["--compare", "--help"], compareOptions],
  ["bench merge --help", BENCH, ["merge", "--help"], mergeOptions],
  ["bench diff --help", BENCH, ["diff", "--help"], { help: { type: "boolean", short: "h" } }],
];

describe("--help", () => {
  for (const [name, script, args, options] of cases)
    test(`${name} names every flag it accepts`, async () => {
      const r = await runCli(script, args);
      expect(r.code).toBe(0);
      expect(unnamed(r.stdout, options)).toEqual([]);
    });

  test("bench --help also lists --compare and its flags, diff and merge", async () => {
    const r = await runCli(BENCH, ["--help"]);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain("bench --compare");
    expect(r.stdout).toContain("bench diff");
    expect(r.stdout).toContain("bench merge");
    expect(unnamed(r.stdout, compareOptions)).toEqual([]);
    expect(unnamed(r.stdout, mergeOptions)).toEqual([]);
  });
});
