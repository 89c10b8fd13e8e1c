/**
 * The self-contained HTML report of a comparison: the table, a percentile
 * spectrum per load point (latency against 1/(1-p), log scales, one line
 * per run), throughput bars, the migration RPC latency spectrum and the
 * accept distribution per worker, the configuration and the machine. uPlot
 * (JS and CSS) is inlined: the file needs no network to be viewed.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { COLUMNS, bestOf, type Row } from "./rows.ts";
import { spectrum } from "./spectrum.ts";
import type { CompareResult } from "./run.ts";
import type { Machine } from "./machine.ts";

const UPLOT_DIR = join(import.meta.dir, "..", "..", "node_modules", "uplot", "dist");
const esc = (s: string) => s.replace(/[&<>"]/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;" })[c]!);
const ladder = Array.from({ length: 61 }, (_, k) => 10 ** (k / 10)); // 1/(1-p)

/** Builds the report page. */
export function compareHtml(result: CompareResult, rows: Row[], machine: Machine): string {
  const js = readFileSync(join(UPLOT_DIR, "uPlot.iife.min.js"), "utf8");
  const css = readFileSync(join(UPLOT_DIR, "uPlot.min.css"), "utf8");
  const spectra = result.runs.map((run, i) => {
    const s = spectrum(run.report.latencyUs?.corrected ? run.report.histograms?.corrected ?? run.report.histogram : run.report.histogram);
    return { label: rows[i].label, point: run.point, y: ladder.map((x) => { const k = s.x.indexOf(x); return k >= 0 ? s.y[k] : null; }) };
  });
  const rpcNs: number[] = result.migration?.rpcNs ?? [];
  const rpcSorted = [...rpcNs].sort((a, b) => a - b);
  const rpc = ladder.filter((x) => x <= rpcSorted.length).map((x) => rpcSorted[Math.min(rpcSorted.length - 1, Math.floor((1 - 1 / x) * rpcSorted.length))] / 1000);
  const data = {
    ladder,
    spectra,
    throughput: rows.map((r) => ({ label: r.label, v: r.msgsPerSec })),
    rpc: { x: ladder.slice(0, rpc.length), y: rpc },
    accepts: rows.filter((r) => r.point === "closed").flatMap((r) => r.accepts.map((a, k) => ({ label: `${r.backend} ${r.mode} w${k}`, v: a }))),
  };
  const bests = COLUMNS.map((c) => bestOf(rows, c));
  const thead = `<tr><th>run</th>${COLUMNS.map((c) => `<th>${esc(c.name)}</th>`).join("")}<th>lock contention</th></tr>`;
  const tbody = rows
    .map((r, i) => `<tr><td>${esc(r.label)}</td>${COLUMNS.map((c, k) => {
      const v = c.name === "accepts min/max" ? `${r.acceptsMin}/${r.acceptsMax}` : c.fmt(c.get(r));
      return `<td class="${bests[k].has(i) ? "best" : ""}">${esc(v)}</td>`;
    }).join("")}<td>${esc(Object.entries(r.contention).map(([k, v]) => `${k} ${(v * 100).toFixed(2)}%`).join(", ") || "no VLS lock taken")}</td></tr>`)
    .join("\n");
  const json = JSON.stringify(data).replace(/</g, "\\u003c");
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>vlsbench: VLS modes compared</title>
<style>${css}
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
<script>${js}</script>
<script>
const D = ${json};
const COLORS = ["#1f77b4","#d62728","#2ca02c","#9467bd","#ff7f0e","#17becf","#8c564b","#e377c2"];
const fmtP = (x) => { const p = 100 * (1 - 1 / x); return (p >= 99 ? p.toFixed(Math.min(5, Math.ceil(-Math.log10(1 - p / 100)) - 2)) : p.toFixed(0)) + "%"; };
function spectrumChart(id, point, title) {
  const sp = D.spectra.filter((s) => s.point === point);
  if (!sp.length) return;
  new uPlot({ title, width: 900, height: 360,
    scales: { x: { distr: 3 }, y: { distr: 3 } },
    axes: [{ label: "percentile", values: (u, v) => v.map(fmtP) }, { label: "latency (us)" }],
    series: [{ label: "1/(1-p)", value: (u, v) => v == null ? "-" : fmtP(v) }, ...sp.map((s, i) => ({ label: s.label, stroke: COLORS[i % COLORS.length], width: 2, spanGaps: false }))],
  }, [D.ladder, ...sp.map((s) => s.y)], document.getElementById(id));
}
function barChart(id, title, items, ylabel) {
  if (!items.length) return;
  const xs = items.map((_, i) => i);
  new uPlot({ title, width: 900, height: 300, scales: { x: { time: false, range: [-0.5, items.length - 0.5] } },
    axes: [{ values: (u, v) => v.map((i) => Number.isInteger(i) && items[i] ? items[i].label : ""), size: 60, rotate: 0 }, { label: ylabel }],
    series: [{}, { label: ylabel, fill: "#1f77b4aa", stroke: "#1f77b4", paths: uPlot.paths.bars({ size: [0.6, 60] }), points: { show: false } }],
  }, [xs, items.map((x) => x.v)], document.getElementById(id));
}
spectrumChart("spectrum-closed", "closed", "Latency by percentile, closed loop");
spectrumChart("spectrum-rate", "rate", "Latency by percentile, fixed rate");
barChart("throughput", "Throughput", D.throughput, "msgs/s");
if (D.rpc.y.length) new uPlot({ title: "Migration RPC latency (kernel, thread mode)", width: 900, height: 300, scales: { x: { distr: 3 }, y: { distr: 3 } },
  axes: [{ label: "percentile", values: (u, v) => v.map(fmtP) }, { label: "latency (us)" }],
  series: [{}, { label: "clone-and-share RPC", stroke: "#d62728", width: 2 }] }, [D.rpc.x, D.rpc.y], document.getElementById("rpc"));
barChart("accepts", "Accepts per worker (closed loop)", D.accepts, "accepts");
</script>
</body></html>
`;
}
