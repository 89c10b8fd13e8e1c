/**
 * Runs a conformance scenario: `bun scenarios/NAME.ts BACKEND MODE [ARGS...]`
 * through the shared runner (test/helpers/scenario.ts: own process, bounded,
 * lock owners dumped on a hang).
 */
import { join } from "node:path";
import { runScript, type ScenarioRun } from "../helpers/scenario.ts";

export const SCENARIO_DIR = join(import.meta.dir, "..", "..", "src", "check", "scenarios");
export type { ScenarioRun };

/** Runs scenarios/NAME.ts with argv [backend, mode, ...extra]. */
export function runScenario<T = any>(name: string, argv: string[], timeoutMs: number): Promise<ScenarioRun<T>> {
  return runScript<T>(join(SCENARIO_DIR, `${name}.ts`), argv, timeoutMs);
}

/** Runs a scenario process once without judging it (exit, signal, hang, stages, result). */
export { runScenarioProcess } from "../helpers/scenario.ts";
