/**
 * The HTML report of a check: self-contained (no network), one row per
 * probe and one column per target; each cell a bar of its runs by outcome
 * with the counts, then what differed and the machine.
 */
import type { CheckResult } from "./check-run.ts";
import type { Machine } from "../compare/machine.ts";
import type { OutcomeKind } from "./outcome.ts";
import { cellText } from "./report-text.ts";
import { seenBefore } from "./known.ts";

const COLORS: Record<OutcomeKind, string> = { ok: "#2e7d32", differs: "#f9a825", crash: "#c62828", hang: "#6a1b9a", error: "#546e7a" };
const ORDER: OutcomeKind[] = ["ok", "differs", "crash", "hang", "error"];

const esc = (s: string) => s.replace(/[&<>"]/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;" })[c]!);

function cell(r: CheckResult, probe: string, target: string, version: string): string {
  const t = r.tallies.find((x) => x.probe === probe && x.target === target);
  if (!t) return `<td class="na">does not apply</td>`;
  if (t.runs === 0) return `<td class="na">not run</td>`;
  const bar = ORDER.filter((k) => t.counts[k] > 0)
    .map((k) => `<span style="flex:${t.counts[k]};background:${COLORS[k]}" title="${k}: ${t.counts[k]} of ${t.runs}"></span>`)
    .join("");
  const before = version ? seenBefore(probe, version) : "";
  const tip = t.details.map((d) => `${d.kind} ${d.count}/${t.runs}: ${d.detail}`).join("\n");
  return `<td title="${esc(tip)}"><div class="bar">${bar}</div><div class="counts">${esc(cellText(t))}</div>${before ? `<div class="before">seen before: ${esc(before)}</div>` : ""}</td>`;
}

/** The page. */
export function checkReportHtml(r: CheckResult, machine: Machine): string {
  const head = r.targets.map((t) => `<th>${esc(t.label)}</th>`).join("");
  const rows = r.probes
    .map((p) => `<tr><th class="probe"><b>${esc(p.id)}</b> <span class="kind ${p.kind}">${p.kind}</span><div class="behaviour">${esc(p.behaviour)}</div></th>${r.targets.map((t) => cell(r, p.id, t.label, t.version)).join("")}</tr>`)
    .join("\n");
  const details = r.tallies
    .flatMap((t) => t.details.map((d) => `<tr><td>${esc(t.probe)}</td><td>${esc(t.target)}</td><td><span class="dot" style="background:${COLORS[d.kind]}"></span>${d.kind}</td><td>${d.count}/${t.runs}</td><td>${esc(d.detail)}</td></tr>`))
    .join("\n");
  const targets = r.targets.map((t) => `<tr><td>${esc(t.label)}</td><td>${esc(t.fullVersion || "embedded model")}</td><td>${esc(t.vls ? `VLS as in ${t.vls}` : "the project's model of the VLS design")}</td><td>${esc(t.prefix || "-")}</td></tr>`).join("");
  const m = machine;
  const legend = ORDER.map((k) => `<span class="dot" style="background:${COLORS[k]}"></span>${k}`).join(" &nbsp; ");
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>vlsbench check</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>
body{font:14px/1.4 system-ui,sans-serif;margin:24px;color:#222;max-width:1800px}
h1{font-size:20px;margin:0 0 4px} h2{font-size:16px;margin:24px 0 8px}
table{border-collapse:collapse;width:100%} th,td{border:1px solid #ddd;padding:6px 8px;text-align:left;vertical-align:top}
thead th{background:#f5f5f5;position:sticky;top:0}
th.probe{width:40%;font-weight:normal} .behaviour{color:#555;font-size:12px;margin-top:2px}
.kind{font-size:11px;padding:1px 5px;border-radius:3px;background:#eee} .kind.hazard{background:#fde0dc}
.bar{display:flex;height:14px;border-radius:3px;overflow:hidden;min-width:80px} .bar span{display:block}
.counts{font-size:12px;margin-top:3px} .before{font-size:11px;color:#777} td.na{color:#999;font-size:12px}
.dot{display:inline-block;width:10px;height:10px;border-radius:50%;margin-right:4px;vertical-align:middle}
.how{color:#555;font-size:13px;max-width:900px} .meta td:first-child{width:180px;color:#555}
</style></head><body>
<h1>vlsbench check</h1>
<div>${r.probes.length} probes, ${r.targets.length} targets, ${r.repeat} run${r.repeat > 1 ? "s" : ""} per probe and target, ${(r.elapsedMs / 1000).toFixed(0)} s, ${esc(r.startedAt)}${r.interrupted ? " - <b>interrupted: partial counts</b>" : ""}</div>
${r.notes.map((n) => `<p>note: ${esc(n)}</p>`).join("")}
<h2>Outcomes</h2>
<p>${legend}</p>
<table><thead><tr><th>probe</th>${head}</tr></thead><tbody>
${rows}
</tbody></table>
<p class="how">How to read this: every probe runs in a process of its own, so a crash or a hang costs one run. <b>ok</b>: the VLS behaved as its design says (for a hazard: the hazard did not show). <b>differs</b>: a defined answer other than the design's (the detail says which). <b>crash</b>: the process died by a signal. <b>hang</b>: no answer within the probe's bound. <b>error</b>: the probe itself could not run. A rate below 100% on one target is a race or a use-after-free whose symptom varies: compare rates, not single runs. "seen before" is what vlsbench recorded on that VPP release on its own test machines. Hover a cell for its details.</p>
<h2>What differed</h2>
${details ? `<table><thead><tr><th>probe</th><th>target</th><th>outcome</th><th>runs</th><th>detail</th></tr></thead><tbody>${details}</tbody></table>` : "<p>Nothing: every run showed the design's behaviour.</p>"}
<h2>Targets</h2>
<table class="meta"><thead><tr><th>target</th><th>version</th><th>VLS</th><th>prefix</th></tr></thead><tbody>${targets}</tbody></table>
<h2>Machine</h2>
<table class="meta"><tbody>
<tr><td>CPU</td><td>${esc(m.cpu)} (${m.cores} cores)</td></tr><tr><td>memory</td><td>${m.memoryGiB} GiB</td></tr>
<tr><td>kernel</td><td>${esc(m.kernel)}</td></tr><tr><td>Bun</td><td>${esc(m.bun)}</td></tr><tr><td>date</td><td>${esc(m.date)}</td></tr>
</tbody></table>
</body></html>
`;
}
