/**
 * The self-contained HTML report of a comparison: the table, a percentile
 * spectrum per load point (latency against 1/(1-p), log scales, one line
 * per run), throughput bars, the migration RPC latency spectrum and the
 * accept distribution per worker, the configuration and the machine. uPlot
 * (JS and CSS) is inlined: the file needs no network to be viewed.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { COLUMNS, bestOf, cellText, contentionText, type Row } from "./rows.ts";
import { LADDER, spectrumOfHistogram } from "./spectrum.ts";
import type { CompareResult } from "./run.ts";
import type { Machine } from "./machine.ts";

const HERE = import.meta.dir;
const UPLOT_DIR = join(HERE, "..", "..", "node_modules", "uplot", "dist");
const esc = (s: string) => s.replace(/[&<>"]/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;" })[c]!);
/** Two-line label for a bar: "backend mode" over the load point. */
const barLabel = (r: Row) => `${r.backend} ${r.mode}\n${r.point === "rate" ? r.label.split(" ").pop() : "closed"}`;

/** Builds the report page. */
export function compareHtml(result: CompareResult, rows: Row[], machine: Machine): string {
  const uplotJs = readFileSync(join(UPLOT_DIR, "uPlot.iife.min.js"), "utf8");
  const uplotCss = readFileSync(join(UPLOT_DIR, "uPlot.min.css"), "utf8");
  const chartsJs = readFileSync(join(HERE, "report-charts.browser.js"), "utf8");
  const data = {
    ladder: LADDER,
    spectra: result.runs.map((run, i) => ({ label: rows[i].label, point: run.point, y: spectrumOfHistogram(run.report.histogram) })),
    throughput: rows.map((r) => ({ label: barLabel(r), v: r.msgsPerSec })),
    rpc: (result.migrations ?? []).flatMap((m) => [
      { label: `${m.backend}: migrating call`, y: spectrumOfHistogram(m.callLatency.histogram) },
      ...(m.rpcLatency.count ? [{ label: `${m.backend}: clone-and-share RPC`, y: spectrumOfHistogram(m.rpcLatency.histogram) }] : []),
    ]),
    accepts: rows.filter((r) => r.point === "closed").flatMap((r) => r.accepts.map((a, k) => ({ label: `${r.backend} ${r.mode}\nworker ${k}`, v: a }))),
  };
  const bests = COLUMNS.map((c) => bestOf(rows, c));
  const thead = `<tr><th>run</th>${COLUMNS.map((c) => `<th>${esc(c.name)}</th>`).join("")}<th>lock contention</th></tr>`;
  const tbody = rows
    .map((r, i) => `<tr><td>${esc(r.label)}</td>${COLUMNS.map((c, k) => {
      const v = cellText(c, r);
      return `<td class="${bests[k].has(i) ? "best" : ""}">${esc(v)}</td>`;
    }).join("")}<td>${esc(contentionText(r, ", "))}</td></tr>`)
    .join("\n");
  const json = JSON.stringify(data).replace(/</g, "\\u003c");
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>vlsbench: VLS modes compared</title>
<style>${uplotCss}
body{font:14px system-ui,sans-serif;margin:24px;color:#222}table{border-collapse:collapse;font-variant-numeric:tabular-nums}
td,th{border:1px solid #ccc;padding:3px 8px;text-align:right}td:first-child,th:first-child,td:last-child{text-align:left}
td.best{background:#d9f2d9;font-weight:600}.chart{margin:18px 0}.note{color:#a40}pre{background:#f6f6f6;padding:8px}</style>
</head><body>
<h1>VLS modes compared</h1>
<p>Best value per column among runs at the same load point is highlighted. Latency of fixed-rate runs is coordinated-omission corrected when available.</p>
${result.notes.map((n) => `<p class="note">${esc(n)}</p>`).join("\n")}
<table id="summary"><thead>${thead}</thead><tbody>${tbody}</tbody></table>
<div class="chart" id="spectrum-closed"></div>
<div class="chart" id="spectrum-rate"></div>
<div class="chart" id="throughput"></div>
<div class="chart" id="rpc"></div>
<div class="chart" id="accepts"></div>
<h2>Configuration</h2><pre>${esc(JSON.stringify(result.plan, null, 2))}</pre>
<h2>Machine</h2><pre>${esc(JSON.stringify(machine, null, 2))}</pre>
<script>${uplotJs}</script>
<script>globalThis.REPORT_DATA = ${json};</script>
<script>${chartsJs}</script>
</body></html>
`;
}
