/**
 * A probe: one VLS behaviour (of the design) or one known VLS hazard, run
 * as a scenario process (src/check/scenarios) and judged against what the
 * VLS design says. The catalog (catalog.ts) lists them; the runner
 * (runner.ts) runs each one N times per backend and counts the outcomes.
 */
import type { BackendName } from "../native/vls.ts";

/** Where a probe runs. */
export interface ProbeContext {
  backend: BackendName;
  /** The VPP release ("24.06", "26.10-rc0"); "" on the kernel backend. */
  version: string;
  /**
   * VLS generation of that VPP: "24.06" (before VPP's 2025 locking rework,
   * the VLS of the design's seeds) or "26.10" (after it); "" on kernel.
   */
  vls: "" | "24.06" | "26.10";
}

/** What a finished (not crashed, not hung) run left to judge. */
export interface ProbeEvidence {
  /** The scenario's JSON result. */
  result: any;
  /** Its "stage: ..." lines, in order. */
  stages: string[];
}

/** One entry of the catalog. */
export interface Probe {
  /** Short stable name, e.g. "migrate-closed". */
  id: string;
  /** The behaviour, in one sentence a VPP engineer recognises. */
  behaviour: string;
  /** "design": a behaviour the VLS design promises; "hazard": a known VLS defect or risk (ok = it did not show). */
  kind: "design" | "hazard";
  /** Scenario file in src/check/scenarios, without ".ts" (or an absolute path to a script). */
  scenario: string;
  /** The scenario's argv after the backend (usually the mode first). */
  args(ctx: ProbeContext): string[];
  /** Watchdog bound of one run, ms: past it the run is a `hang`. */
  timeoutMs: number;
  /**
   * null when the run showed the design's behaviour, else one line naming
   * the defined answer it gave instead (a `differs` outcome). Throw when the
   * evidence is not something the scenario can produce (an `error`).
   */
  judge(e: ProbeEvidence, ctx: ProbeContext): string | null;
  /** Backends it applies to (default: every one). */
  backends?: BackendName[];
}

/** "a=1 b=2" from an object: compact `differs` details. */
export function brief(o: unknown): string {
  return JSON.stringify(o).replace(/"/g, "").slice(0, 200);
}
