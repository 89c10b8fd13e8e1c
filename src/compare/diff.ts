/** `bench diff a.json b.json`: the change per run and column between two
 * comparison reports (or two single bench reports). A change is called one
 * only beyond both runs' spreads (verdict.ts's rule): within them the cell
 * says "~" (noise); a side of one round has no spread, marked "?". */
import { COLUMNS } from "./rows.ts";
import { cellsOf, type Cell } from "./rounds.ts";
import { beyondNoise } from "./verdict.ts";
import type { CompareRun } from "./run.ts";

import { shortVersion } from "../vpp/find.ts";

/** A single bench report's backend as compare rows name it: "vpp 24.06" when it ran on VPP. */
function backendOf(doc: any): string {
  const b = doc.config?.backend ?? "target";
  const v = typeof doc.config?.vppVersion === "string" ? doc.config.vppVersion.match(/v\d{2}\.\d{2}\S*/)?.[0] : undefined;
  return b === "vpp" && v ? `vpp ${shortVersion(v)}` : b;
}

/** A report's cells: a comparison's (any version), or one cell of one round for a single bench report. */
function cellsOfDoc(doc: any): Cell[] {
  if (Array.isArray(doc.runs)) return cellsOf(doc.runs as CompareRun[]);
  return cellsOf([{ backend: backendOf(doc), mode: doc.config?.mode ?? "-", point: doc.rate?.asked ? "rate" : "closed", rate: doc.rate?.asked ?? null, report: doc }]);
}

/**
 * Text of the differences; cells are matched by backend, mode and load
 * point. A VPP cell with no cell of the same VPP version on the other side
 * is matched with the other side's VPP cell of the same mode and point (one
 * VPP version against another), named "vpp A>B". Figures are the medians.
 */
export function diffReports(a: any, b: any): string {
  const ra = cellsOfDoc(a);
  const rb = cellsOfDoc(b);
  const exact = (r: Cell) => `${r.backend} ${r.mode} ${r.point}`;
  const loose = (r: Cell) => exact(r).replace(/^vpp \S+( \(.*\))?/, "vpp");
  const partner = (x: Cell, side: Cell[]) => side.find((r) => exact(r) === exact(x)) ?? (x.backend.startsWith("vpp") ? side.find((r) => loose(r) === loose(x) && !ra.some((q) => exact(q) === exact(r))) : undefined);
  const key = (x: Cell, y?: Cell) => (y && y.backend !== x.backend ? `${x.backend}>${y.backend.replace(/^vpp /, "")} ${x.mode} ${x.point}` : exact(x));
  const cols = COLUMNS.filter((c) => c.name !== "accepts min/max");
  const roundsA = Math.max(0, ...ra.map((c) => c.rounds.length));
  const roundsB = Math.max(0, ...rb.map((c) => c.rounds.length));
  const out: string[] = [`${"run".padEnd(24)}  ${cols.map((c) => c.name.padStart(22)).join("")}`];
  const matched = new Set<Cell>();
  for (const x of ra) {
    const y = partner(x, rb);
    if (!y) {
      out.push(`${key(x).padEnd(24)}  only in the first report`);
      continue;
    }
    matched.add(y);
    const cells = cols.map((c) => {
      const sa = x.stats[c.name];
      const sb = y.stats[c.name];
      if (!sa.n || !sb.n) return "-".padStart(22);
      const [va, vb] = [sa.median, sb.median];
      const pct = va === 0 ? (vb === 0 ? 0 : Infinity) : ((vb - va) / Math.abs(va)) * 100;
      const mark = sa.n < 2 || sb.n < 2 ? "?" : beyondNoise(sa, sb) ? "" : "~";
      const s = `${c.fmt(va)}>${c.fmt(vb)}` + (Number.isFinite(pct) && c.name !== "errors" ? ` ${mark === "~" ? "~" : ""}${pct >= 0 ? "+" : ""}${pct.toFixed(0)}%${mark === "?" ? "?" : ""}` : mark === "~" ? " ~" : "");
      return "  " + s.padStart(20);
    });
    out.push(`${key(x, y).padEnd(24)}  ${cells.join("")}`);
  }
  for (const y of rb) if (!matched.has(y)) out.push(`${key(y).padEnd(24)}  only in the second report`);
  out.push("");
  out.push(`medians of ${roundsA} and ${roundsB} round(s). ~: within noise (the two runs' min-max ranges overlap); ?: a side has one round, so no spread is known and no change is beyond noise; unmarked: beyond noise.`);
  return out.join("\n");
}
