/** The side-by-side text table of a comparison: per cell the median of its
 * rounds, and under it the min-max when there are several; '*' marks a best
 * value that is beyond noise (its range apart from every other's at the same
 * load point). The verdicts come first, one line per column and point. */
import { COLUMNS, cellText, contentionText } from "./rows.ts";
import { bestCells, roundsOf, type Cell } from "./rounds.ts";
import type { Verdict } from "./verdict.ts";

/** A column's text for a spread: "min-max" in the column's format. */
function rangeText(col: (typeof COLUMNS)[number], c: Cell): string {
  const s = c.stats[col.name];
  if (col.name === "accepts min/max" || s.n === 0) return "";
  return s.min === s.max ? "=" : `${col.fmt(s.min)}-${col.fmt(s.max)}`;
}

/** The median row of a cell as a Row-like value for cellText. */
function medianText(col: (typeof COLUMNS)[number], c: Cell): string {
  if (col.name === "accepts min/max") return cellText(col, c.rounds[Math.floor((c.rounds.length - 1) / 2)]);
  const s = c.stats[col.name];
  return s.n === 0 ? "-" : col.fmt(s.median);
}

/** The verdict lines, then the table, then the lock-contention block. */
export function compareTable(cells: Cell[], verdicts: Verdict[]): string {
  const rounds = roundsOf(cells);
  const header = ["run", ...COLUMNS.map((c) => c.name)];
  const bests = COLUMNS.map((c) => bestCells(cells, c));
  const lines: string[][] = [];
  cells.forEach((c, i) => {
    lines.push([c.label, ...COLUMNS.map((col, k) => medianText(col, c) + (bests[k].has(i) ? "*" : " "))]);
    if (rounds > 1) lines.push(["  min-max", ...COLUMNS.map((col) => rangeText(col, c) + " ")]);
  });
  const all = [header, ...lines];
  const w = header.map((_, i) => Math.max(...all.map((row) => row[i].length)));
  const table = all.map((row) => row.map((c, i) => (i === 0 ? c.padEnd(w[i]) : c.padStart(w[i]))).join("  "));
  const locks = cells.map((c) => `${c.label.padEnd(w[0])}  ` + contentionText(c.rounds[0], "  "));
  const what = rounds > 1 ? `median of ${rounds} rounds, min-max under it; * best beyond noise` : "1 round: no spread, so no best is marked";
  return [`verdicts (${rounds} round${rounds > 1 ? "s" : ""}):`, ...verdicts.map((v) => `  ${v.text}`), "", `(${what})`, ...table, "", "lock contention (contended / acquired) per lock, first round:", ...locks].join("\n");
}
