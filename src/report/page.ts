/**
 * The shell shared by vlsbench's chart reports (the comparison and the
 * single run): style, uPlot (JS and CSS) and the chart script inlined, the
 * data as one JSON object, so the file needs no network to be viewed.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";

const HERE = import.meta.dir;
const UPLOT_DIR = join(HERE, "..", "..", "node_modules", "uplot", "dist");

/** HTML-escapes text. */
export const esc = (s: string) => s.replace(/[&<>"]/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;" })[c]!);

/** One chart's container and its "how to read this" line (the spec goes into the data's `charts`). */
export function chartBlock(id: string, howToRead: string): string {
  return `<div class="chart" id="${id}"></div>\n<p class="how"><b>How to read this:</b> ${howToRead}</p>`;
}

/** A two-column table of name/value pairs (nested objects as "a.b"; lists joined). */
export function factsTable(facts: Record<string, unknown>): string {
  const rows: [string, string][] = [];
  const walk = (prefix: string, v: unknown) => {
    if (v && typeof v === "object" && !Array.isArray(v)) for (const [k, x] of Object.entries(v)) walk(prefix ? `${prefix}.${k}` : k, x);
    else rows.push([prefix, Array.isArray(v) ? v.join(", ") || "-" : v === null || v === undefined ? "-" : String(v)]);
  };
  walk("", facts);
  return `<table class="facts"><tbody>${rows.map(([k, v]) => `<tr><th>${esc(k)}</th><td>${esc(v)}</td></tr>`).join("")}</tbody></table>`;
}

/** The whole page: `body` is HTML; `data` is REPORT_DATA ({ ladder, charts }). */
export function reportPage(title: string, body: string, data: object): string {
  const uplotJs = readFileSync(join(UPLOT_DIR, "uPlot.iife.min.js"), "utf8");
  const uplotCss = readFileSync(join(UPLOT_DIR, "uPlot.min.css"), "utf8");
  const chartsJs = readFileSync(join(HERE, "charts.browser.js"), "utf8");
  const json = JSON.stringify(data).replace(/</g, "\\u003c");
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>${esc(title)}</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>${uplotCss}
body{font:14px/1.4 system-ui,sans-serif;margin:20px 24px;color:#222;max-width:1880px}
h1{font-size:20px;margin:0 0 6px} h2{font-size:16px;margin:26px 0 6px;border-bottom:1px solid #ddd;padding-bottom:3px}
table{border-collapse:collapse;font-variant-numeric:tabular-nums}
td,th{border:1px solid #ccc;padding:3px 6px;text-align:right;vertical-align:top}
#summary{width:100%;font-size:13px} #summary td:first-child,#summary th:first-child,#summary td:last-child{text-align:left} #summary td:first-child{white-space:nowrap;position:sticky;left:0;background:#fff}
#summary th{font-weight:600;font-size:12px}
#summary thead th{background:#f3f3f3;position:sticky;top:0}
.wide{overflow-x:auto}
td.best{background:#d9f2d9;font-weight:600} .range{display:block;color:#777;font-size:11px;white-space:nowrap}
.verdicts{margin:6px 0 12px;padding:8px 12px;background:#f6f8fb;border-left:4px solid #1f77b4;list-style:none}
.verdicts li{margin:2px 0} .verdicts .yes{color:#1b5e20;font-weight:600} .verdicts .no{color:#555}
.chart{margin:18px 0 2px;width:100%} .how{color:#555;font-size:13px;margin:2px 0 10px;max-width:1100px}
.note{color:#a40} .facts th{text-align:left;font-weight:normal;color:#555;background:#fafafa} .facts td{text-align:left}
.u-legend{font-size:12px} .u-title{font-size:15px}
</style>
</head><body>
${body}
<script>${uplotJs}</script>
<script>globalThis.REPORT_DATA = ${json};</script>
<script>${chartsJs}</script>
</body></html>
`;
}
