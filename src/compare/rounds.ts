/**
 * A comparison's runs grouped per backend x mode x load point: each cell's
 * rounds, its per-column spread (median, min, max), the best marks and the
 * verdict per column, as the table, the HTML, the JSON and diff use them.
 */
import { COLUMNS, rowOf, type Row } from "./rows.ts";
import { spreadOf, verdictOf, beyondNoise, type Spread, type Verdict } from "./verdict.ts";
import type { CompareRun } from "./run.ts";

/** One backend x mode x load point over its rounds. */
export interface Cell {
  label: string;
  backend: string;
  mode: string;
  point: string;
  /** The runs' rows, in round order. */
  rounds: Row[];
  /** Per column of COLUMNS (by name). */
  stats: Record<string, Spread>;
  /** The runs themselves (their reports), in round order. */
  runs: CompareRun[];
}

/** Groups runs (of any number of rounds; a run without `round` is one round) into cells, in first-seen order. */
export function cellsOf(runs: CompareRun[]): Cell[] {
  const cells = new Map<string, Cell>();
  for (const run of runs) {
    const row = rowOf(run);
    const key = `${run.backend}|${run.mode}|${run.point}`;
    let c = cells.get(key);
    if (!c) {
      // The label without the rate: rounds of a rate point share one rate.
      c = { label: row.label, backend: row.backend, mode: row.mode, point: row.point, rounds: [], stats: {}, runs: [] };
      cells.set(key, c);
    }
    c.rounds.push(row);
    c.runs.push(run);
  }
  for (const c of cells.values()) for (const col of COLUMNS) c.stats[col.name] = spreadOf(c.rounds.map(col.get));
  return [...cells.values()];
}

/** The rounds of a set of cells: the most any cell has. */
export function roundsOf(cells: Cell[]): number {
  return Math.max(0, ...cells.map((c) => c.rounds.length));
}

/** Short name of a cell inside its load point: "kernel thread". */
export const shortName = (c: Cell) => `${c.backend} ${c.mode}`;

/** The verdicts, one per column with a direction and load point with two or more valued cells. */
export function verdictsOf(cells: Cell[]): Verdict[] {
  const rounds = roundsOf(cells);
  const out: Verdict[] = [];
  for (const point of new Set(cells.map((c) => c.point)))
    for (const col of COLUMNS) {
      if (col.better === "none" || col.name === "accepts min/max") continue;
      const at = cells.filter((c) => c.point === point);
      const v = verdictOf(col.name, point === "closed" ? "closed loop" : "fixed rate", col.better, rounds, at.map((c) => ({ label: shortName(c), spread: c.stats[col.name] })));
      if (v) out.push(v);
    }
  return out;
}

/** Indexes of the cells marked best in a column: the best median at its load point, apart beyond noise from every other there. */
export function bestCells(cells: Cell[], col: (typeof COLUMNS)[number]): Set<number> {
  const best = new Set<number>();
  if (col.better === "none") return best;
  for (const point of new Set(cells.map((c) => c.point))) {
    const at = cells.flatMap((c, i) => (c.point === point && c.stats[col.name].n > 0 ? [{ i, s: c.stats[col.name] }] : []));
    if (at.length < 2) continue;
    const top = at.reduce((a, b) => ((col.better === "high" ? b.s.median > a.s.median : b.s.median < a.s.median) ? b : a));
    if (at.every((x) => x === top || beyondNoise(top.s, x.s))) best.add(top.i);
  }
  return best;
}

/** A cell's figures for the JSON report: every round's row and the per-column spreads. */
export function cellJson(c: Cell) {
  return {
    label: c.label,
    backend: c.backend,
    mode: c.mode,
    point: c.point,
    rounds: c.rounds.map((r) => Object.fromEntries(COLUMNS.map((col) => [col.name, col.get(r)]))),
    stats: c.stats,
  };
}
