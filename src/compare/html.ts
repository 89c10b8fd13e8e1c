/**
 * The self-contained HTML report of a comparison: the verdicts, the table
 * (median and min-max of the rounds; best marked only beyond noise), a
 * percentile spectrum per load point (latency against 1/(1-p), log scales,
 * one line per backend x mode, its rounds' histograms added), throughput
 * bars with the rounds' min and max, the migration RPC latency spectrum,
 * the accepts per worker, the configuration and the machine.
 */
import { COLUMNS, cellText, contentionText } from "./rows.ts";
import { LADDER, spectrumOfHistograms } from "./spectrum.ts";
import { bestCells, roundsOf, type Cell } from "./rounds.ts";
import { spreadOf, type Verdict } from "./verdict.ts";
import type { CompareResult } from "./run.ts";
import type { Machine } from "./machine.ts";
import { chartBlock, esc, factsTable, reportPage } from "../report/page.ts";

/** Label of a closed-loop cell on a category axis: backend (a VPP's version on a line of its own) over mode, so it fits a bar at 800 px. */
const twoLines = (c: Cell) => `${c.backend.replace(" ", "\n")}\n${c.mode}`;

function chartSpecs(result: CompareResult, cells: Cell[]) {
  const closed = cells.filter((c) => c.point === "closed");
  const spectra = (point: string) => cells.filter((c) => c.point === point).map((c) => ({ label: c.label, y: spectrumOfHistograms(c.runs.map((r) => r.report.histogram)) }));
  const workers = Math.max(0, ...closed.flatMap((c) => c.rounds.map((r) => r.accepts.length)));
  return [
    { id: "spectrum-closed", kind: "spectrum", title: "Latency by percentile, closed loop", series: spectra("closed") },
    { id: "spectrum-rate", kind: "spectrum", title: "Latency by percentile, fixed rate (corrected for coordinated omission)", series: spectra("rate") },
    { id: "cpu", kind: "bars", title: "Server CPU per message, closed loop", ylabel: "us/msg", height: 320, items: closed.map((c) => ({ label: twoLines(c), v: c.stats["srv cpu us/msg"].median, min: c.stats["srv cpu us/msg"].min, max: c.stats["srv cpu us/msg"].max })) },
    { id: "throughput", kind: "bars", title: "Throughput, closed loop", ylabel: "msgs/s", height: 320, items: closed.map((c) => ({ label: twoLines(c), v: c.stats["msgs/s"].median, min: c.stats["msgs/s"].min, max: c.stats["msgs/s"].max })) },
    ...((result.migrations ?? []).length
      ? [{
          id: "rpc", kind: "spectrum", title: "Migration under load (thread mode): the migrating call, and the RPC where observable",
          series: result.migrations.flatMap((m) => [
            { label: `${m.backend}: migrating call`, y: spectrumOfHistograms([m.callLatency.histogram]) },
            ...(m.rpcLatency.count ? [{ label: `${m.backend}: clone-and-share RPC`, y: spectrumOfHistograms([m.rpcLatency.histogram]) }] : []),
          ]),
        }]
      : []),
    {
      id: "accepts", kind: "dots", title: "Sessions accepted per server worker (closed loop; median of the rounds)", ylabel: "accepts", height: 320,
      labels: closed.map(twoLines),
      series: Array.from({ length: workers }, (_, k) => ({ label: `worker ${k}`, y: closed.map((c) => spreadOf(c.rounds.map((r) => r.accepts[k] ?? NaN)).median).map((v) => (Number.isNaN(v) ? null : v)) })),
    },
  ];
}

const HOW = {
  spectrum: "each line is one backend x mode; x is the percentile on a log scale of 1/(1-p) (90%, 99%, 99.9%...), y the latency on a log scale. Lower is better; a line that rises early has a fat tail. The rounds' histograms are added together; the table gives each round's spread.",
  rate: "the same at the fixed rate every run was given (half the slowest closed-loop throughput): latency counts from when each message was due, so a stall shows as a wall of late messages rather than being hidden.",
  cpu: "what a mode costs: the server's CPU time (user + system, every thread and forked worker, from /proc over the measured window) per echoed message. Bar: the median of the rounds; dots: the lowest and highest round. Steadier than throughput on a shared machine.",
  throughput: "bar: the median of the rounds; white and black dots: the slowest and the fastest round. Bars whose dots overlap another's range are within noise of each other.",
  rpc: "the cost of moving a session between workers while its owner is busy: the whole migrating call, and (on the kernel model) the clone-and-share RPC inside it.",
  accepts: "one dot per server worker: how many of the sessions it accepted from the shared listener. Dots together mean the listener is shared evenly; a worker near zero means one worker takes all.",
};

function summaryTable(cells: Cell[]): string {
  const rounds = roundsOf(cells);
  const bests = COLUMNS.map((c) => bestCells(cells, c));
  const thead = `<tr><th>run</th>${COLUMNS.map((c) => `<th>${esc(c.name)}</th>`).join("")}</tr>`;
  const tbody = cells
    .map((c, i) => `<tr><td>${esc(c.label)}</td>${COLUMNS.map((col, k) => {
      const s = c.stats[col.name];
      const v = col.name === "accepts min/max" ? cellText(col, c.rounds[Math.floor((c.rounds.length - 1) / 2)]) : s.n ? col.fmt(s.median) : "-";
      const range = rounds > 1 && s.n && col.name !== "accepts min/max" ? `<span class="range">${s.min === s.max ? "=" : `${esc(col.fmt(s.min))}–${esc(col.fmt(s.max))}`}</span>` : "";
      return `<td class="${bests[k].has(i) ? "best" : ""}">${esc(v)}${range}</td>`;
    }).join("")}</tr>`)
    .join("\n");
  const locks = cells.map((c) => `<tr><th>${esc(c.label)}</th><td>${esc(contentionText(c.rounds[0], ", "))}</td></tr>`).join("");
  return `<div class="wide"><table id="summary"><thead>${thead}</thead><tbody>${tbody}</tbody></table></div>
<h2>Lock contention</h2>
<p class="how"><b>How to read this:</b> of the times each VLS lock was taken in the first round, the share that had to wait for another thread. High shares on one lock name the lock that serialises that mode.</p>
<table class="facts">${locks}</table>`;
}

/** Builds the report page. */
export function compareHtml(result: CompareResult, cells: Cell[], verdicts: Verdict[], machine: Machine): string {
  const rounds = roundsOf(cells);
  const data = { ladder: LADDER, charts: chartSpecs(result, cells) };
  const has = new Set(data.charts.map((c) => c.id));
  const verdictList = verdicts.map((v) => `<li class="${v.beyondNoise ? "yes" : "no"}">${esc(v.text)}</li>`).join("");
  const body = `<h1>VLS modes compared</h1>
<p>${rounds} round${rounds > 1 ? "s" : ""} of every backend x mode x load point, alternated (A B C A B C). ${rounds > 1 ? "A difference is called only when the ranges (min–max of the rounds) do not overlap; otherwise it is within the machine's noise." : "One round has no spread: nothing below is beyond noise, and no best is marked. Run with --rounds 3 or more for verdicts."} Latency of fixed-rate runs is coordinated-omission corrected.</p>
${result.notes.map((n) => `<p class="note">${esc(n)}</p>`).join("\n")}
<h2>Verdicts</h2>
<ul class="verdicts" id="verdicts">${verdictList}</ul>
<h2>All figures</h2>
<p class="how"><b>How to read this:</b> each cell is the median of the rounds${rounds > 1 ? ", with the slowest and fastest round under it" : ""}. A green cell is the best at its load point beyond noise: its range is apart from every other's.</p>
${summaryTable(cells)}
<h2>Charts</h2>
${chartBlock("spectrum-closed", HOW.spectrum)}
${chartBlock("spectrum-rate", HOW.rate)}
${chartBlock("cpu", HOW.cpu)}
${chartBlock("throughput", HOW.throughput)}
${has.has("rpc") ? chartBlock("rpc", HOW.rpc) : ""}
${chartBlock("accepts", HOW.accepts)}
<h2>Configuration</h2>${factsTable({ ...result.plan, rounds, fixedRate: cells.find((c) => c.point === "rate")?.runs[0].rate?.toFixed(0) ?? null })}
<h2>Machine</h2>${factsTable(machine as unknown as Record<string, unknown>)}`;
  return reportPage("vlsbench: VLS modes compared", body, data);
}


