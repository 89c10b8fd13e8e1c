/** `bench diff a.json b.json`: the change per run and column between two
 * comparison reports (or two single bench reports). */
import { COLUMNS, rowOf, type Row } from "./rows.ts";
import type { CompareResult } from "./run.ts";

import { shortVersion } from "../vpp/find.ts";

/** A single bench report's backend as compare rows name it: "vpp 24.06" when it ran on VPP. */
function backendOf(doc: any): string {
  const b = doc.config?.backend ?? "target";
  const v = typeof doc.config?.vppVersion === "string" ? doc.config.vppVersion.match(/v\d{2}\.\d{2}\S*/)?.[0] : undefined;
  return b === "vpp" && v ? `vpp ${shortVersion(v)}` : b;
}

function rowsOf(doc: any): Row[] {
  if (Array.isArray(doc.runs)) return (doc as CompareResult).runs.map(rowOf);
  return [rowOf({ backend: backendOf(doc), mode: doc.config?.mode ?? "-", point: doc.rate ? "rate" : "closed", rate: doc.rate?.asked ?? null, report: doc })];
}

/**
 * Text of the differences; rows are matched by backend, mode and load
 * point. A VPP row with no row of the same VPP version on the other side is
 * matched with the other side's VPP row of the same mode and point (one
 * VPP version against another), named "vpp A>B".
 */
export function diffReports(a: any, b: any): string {
  const ra = rowsOf(a);
  const rb = rowsOf(b);
  const exact = (r: Row) => `${r.backend} ${r.mode} ${r.point}`;
  const loose = (r: Row) => exact(r).replace(/^vpp \S+( \(.*\))?/, "vpp");
  const partner = (x: Row, side: Row[]) => side.find((r) => exact(r) === exact(x)) ?? (x.backend.startsWith("vpp") ? side.find((r) => loose(r) === loose(x) && !ra.some((q) => exact(q) === exact(r))) : undefined);
  const key = (x: Row, y?: Row) => (y && y.backend !== x.backend ? `${x.backend}>${y.backend.replace(/^vpp /, "")} ${x.mode} ${x.point}` : exact(x));
  const cols = COLUMNS.filter((c) => c.name !== "accepts min/max");
  const out: string[] = [`${"run".padEnd(24)}  ${cols.map((c) => c.name.padStart(20)).join("")}`];
  const matched = new Set<Row>();
  for (const x of ra) {
    const y = partner(x, rb);
    if (!y) {
      out.push(`${key(x).padEnd(24)}  only in the first report`);
      continue;
    }
    matched.add(y);
    const cells = cols.map((c) => {
      const va = c.get(x);
      const vb = c.get(y);
      if (Number.isNaN(va) || Number.isNaN(vb)) return "-".padStart(20);
      const pct = va === 0 ? (vb === 0 ? 0 : Infinity) : ((vb - va) / Math.abs(va)) * 100;
      const s = `${c.fmt(va)}>${c.fmt(vb)}` + (Number.isFinite(pct) && c.name !== "errors" ? ` ${pct >= 0 ? "+" : ""}${pct.toFixed(0)}%` : "");
      return "  " + s.padStart(18);
    });
    out.push(`${key(x, y).padEnd(24)}  ${cells.join("")}`);
  }
  for (const y of rb) if (!matched.has(y)) out.push(`${key(y).padEnd(24)}  only in the second report`);
  return out.join("\n");
}
