/** Writes `bench --html FILE`: the page of one run (run-html.ts) with the machine it ran on. */
import { writeFileSync } from "node:fs";
import type { LoadResult } from "../loadgen/run.ts";
import { describeMachine } from "../compare/machine.ts";
import { runHtml } from "./run-html.ts";

/** Writes the page of run `r` to `file`; `vppVersion` as `vppctl show version` gave it, when VPP ran. */
export function writeRunHtml(file: string, title: string, r: LoadResult, config: Record<string, unknown>, vppVersion: string | null): void {
  writeFileSync(file, runHtml(title, r, config, describeMachine(vppVersion)));
}
