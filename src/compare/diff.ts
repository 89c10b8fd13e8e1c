/** `bench diff a.json b.json`: the change per run and column between two
 * comparison reports (or two single bench reports). */
import { COLUMNS, rowOf, type Row } from "./rows.ts";
import type { CompareResult } from "./run.ts";

function rowsOf(doc: any): Row[] {
  if (Array.isArray(doc.runs)) return (doc as CompareResult).runs.map(rowOf);
  return [rowOf({ backend: doc.config?.backend ?? "target", mode: doc.config?.mode ?? "-", point: doc.rate ? "rate" : "closed", rate: doc.rate?.asked ?? null, report: doc })];
}

/** Text of the differences; rows are matched by backend, mode and load point. */
export function diffReports(a: any, b: any): string {
  const ra = rowsOf(a);
  const rb = rowsOf(b);
  const key = (r: Row) => `${r.backend} ${r.mode} ${r.point}`;
  const cols = COLUMNS.filter((c) => c.name !== "accepts min/max");
  const out: string[] = [`${"run".padEnd(24)}  ${cols.map((c) => c.name.padStart(20)).join("")}`];
  for (const x of ra) {
    const y = rb.find((r) => key(r) === key(x));
    if (!y) {
      out.push(`${key(x).padEnd(24)}  only in the first report`);
      continue;
    }
    const cells = cols.map((c) => {
      const va = c.get(x);
      const vb = c.get(y);
      if (Number.isNaN(va) || Number.isNaN(vb)) return "-".padStart(20);
      const pct = va === 0 ? (vb === 0 ? 0 : Infinity) : ((vb - va) / Math.abs(va)) * 100;
      const s = `${c.fmt(va)}>${c.fmt(vb)}` + (Number.isFinite(pct) && c.name !== "errors" ? ` ${pct >= 0 ? "+" : ""}${pct.toFixed(0)}%` : "");
      return "  " + s.padStart(18);
    });
    out.push(`${key(x).padEnd(24)}  ${cells.join("")}`);
  }
  for (const y of rb) if (!ra.some((x) => key(x) === key(y))) out.push(`${key(y).padEnd(24)}  only in the second report`);
  return out.join("\n");
}
