/** The side-by-side text table of a comparison; the best value per column
 * (among runs at the same load point) is marked with '*'. */
import { COLUMNS, bestOf, cellText, contentionText, type Row } from "./rows.ts";

/** Renders rows as a fixed-width table plus a lock-contention block. */
export function compareTable(rows: Row[]): string {
  const header = ["run", ...COLUMNS.map((c) => c.name)];
  const bests = COLUMNS.map((c) => bestOf(rows, c));
  const cells = rows.map((r, i) => [
    r.label,
    ...COLUMNS.map((c, k) => cellText(c, r) + (bests[k].has(i) ? "*" : " ")),
  ]);
  const all = [header, ...cells];
  const w = header.map((_, i) => Math.max(...all.map((row) => row[i].length)));
  const lines = all.map((row) => row.map((c, i) => (i === 0 ? c.padEnd(w[i]) : c.padStart(w[i]))).join("  "));
  const locks = rows.map((r) => `${r.label.padEnd(w[0])}  ` + contentionText(r, "  "));
  return [...lines, "", "lock contention (contended / acquired) per lock:", ...locks].join("\n");
}
