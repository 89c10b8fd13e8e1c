/**
 * The self-contained HTML page of one ordinary bench run (`bench --html`):
 * the summary, the percentile spectrum (corrected and uncorrected in open
 * loop), msgs/s and latency per second, errors per second, messages per
 * connection, the configuration and the machine. Same shell and charts as
 * the comparison report (page.ts).
 */
import * as hdr from "hdr-histogram-js";
import type { LoadResult } from "../loadgen/run.ts";
import { errorTotal } from "../loadgen/run.ts";
import { LADDER, spectrumOfHistograms } from "../compare/spectrum.ts";
import type { Machine } from "../compare/machine.ts";
import { chartBlock, esc, factsTable, reportPage } from "./page.ts";

/** Per measured second: its start, msgs/s, p50/p99 (µs, null when no histogram was kept or none completed), errors. */
export function perSecond(r: LoadResult) {
  const rows = r.intervals.filter((iv) => iv.lengthSec > 0.05);
  let before = 0;
  const errors = r.intervals.map((iv) => {
    const e = iv.errors - before;
    before = iv.errors;
    return { sec: iv.startSec, e };
  });
  const pct = (enc: string | undefined, p: number) => {
    if (!enc) return null;
    const h = hdr.decodeFromCompressedBase64(enc, 64);
    return h.totalCount ? h.getValueAtPercentile(p) / 1000 : null;
  };
  return {
    x: rows.map((iv) => Number(iv.startSec.toFixed(2))),
    msgsPerSec: rows.map((iv) => iv.messages / iv.lengthSec),
    p50: rows.map((iv) => pct(iv.encoded?.corrected, 50)),
    p99: rows.map((iv) => pct(iv.encoded?.corrected, 99)),
    errorsX: errors.map((x) => Number(x.sec.toFixed(2))),
    errors: errors.map((x) => x.e),
  };
}

const HOW = {
  spectrum: "x is the percentile on a log scale of 1/(1-p) (90%, 99%, 99.9%...), y the latency on a log scale; lower is better, and a line that rises early has a fat tail.",
  open: " Corrected counts from when each message was due by the schedule, uncorrected from when it was really sent: a gap between the two lines is time the load generator or the server fell behind (coordinated omission).",
  rate: "messages echoed in each second of the measurement. A steady line is a steady server; dips are stalls (compare with the latency chart below at the same second).",
  latency: "the median and the 99th percentile of the messages completed in each second (corrected in open loop). A p99 spike at one second with a flat p50 is a stall that hit few messages.",
  errors: "errors of every kind (connect, read, write, verify, timeout) counted in each second; a line flat at zero is a clean run.",
  conns: "messages each connection completed, in connection order. Even bars mean the load and the server's workers are fair; a bar at zero is a starved connection.",
};

/** Builds the page; `connectionMessages` are the messages per connection in connection order. */
export function runHtml(title: string, r: LoadResult, config: Record<string, unknown>, machine: Machine): string {
  const open = r.rate.asked !== null;
  const s = perSecond(r);
  const conns = r.connectionMessages ?? [];
  const charts = [
    {
      id: "spectrum", kind: "spectrum", title: open ? "Latency by percentile (corrected and uncorrected)" : "Latency by percentile",
      series: [
        { label: open ? "corrected" : "latency", y: spectrumOfHistograms([r.histogram]) },
        ...(open && r.histogramUncorrected ? [{ label: "uncorrected", dash: true, y: spectrumOfHistograms([r.histogramUncorrected]) }] : []),
      ],
    },
    { id: "per-second-rate", kind: "lines", title: "Throughput per second", xlabel: "second", ylabel: "msgs/s", height: 280, x: s.x, series: [{ label: "msgs/s", y: s.msgsPerSec }] },
    { id: "per-second-latency", kind: "lines", title: "Latency per second", xlabel: "second", ylabel: "µs", logY: true, height: 280, x: s.x, series: [{ label: "p50", unit: "µs", y: s.p50 }, { label: "p99", unit: "µs", y: s.p99 }] },
    { id: "per-second-errors", kind: "lines", title: "Errors per second", xlabel: "second", ylabel: "errors", height: 220, x: s.errorsX, series: [{ label: "errors", y: s.errors }] },
    { id: "per-connection", kind: "lines", title: `Messages per connection (${conns.length} connections)`, xlabel: "connection", ylabel: "messages", height: 260, x: conns.map((_, i) => i), series: [{ label: "messages", bars: true, y: conns }] },
  ];
  const l = r.latencyUs;
  const lat = (name: string, x: typeof l) => `<tr><th>${name}</th>${[x.min, x.p50, x.p90, x.p99, x.p999, x.p9999, x.max].map((v) => `<td>${v.toFixed(1)}</td>`).join("")}</tr>`;
  const summary = `<table id="figures"><thead><tr><th>latency (µs)</th><th>min</th><th>p50</th><th>p90</th><th>p99</th><th>p99.9</th><th>p99.99</th><th>max</th></tr></thead><tbody>
${open && l.corrected && l.uncorrected ? lat("corrected", l.corrected) + lat("uncorrected", l.uncorrected) : lat("latency", l)}</tbody></table>`;
  const errs = errorTotal(r.errors);
  const body = `<h1>${esc(title)}</h1>
<p><b>${r.msgsPerSec.toFixed(0)} msgs/s</b>, ${r.messages} messages in ${r.durationSec.toFixed(1)} s, ${(r.bytesPerSec / 1e6).toFixed(2)} MB/s; ${open ? `open loop at ${r.rate.asked} msgs/s asked (sent ${r.rate.sent.toFixed(0)}, achieved ${r.rate.achieved.toFixed(0)})` : "closed loop"}; <b>${errs} error${errs === 1 ? "" : "s"}</b>${r.firstError ? ` (first: ${esc(r.firstError)})` : ""}. Messages per connection min/median/max ${r.perConnection.min}/${r.perConnection.median}/${r.perConnection.max}${r.perConnection.starved ? `, ${r.perConnection.starved} starved` : ""}.</p>
<p class="how">One run is one sample: on a busy machine the same run varies between runs. To compare setups, use <code>bench --compare</code> (rounds and a noise rule) or <code>bench diff</code>.</p>
${summary}
<h2>Charts</h2>
${chartBlock("spectrum", HOW.spectrum + (open ? HOW.open : ""))}
${chartBlock("per-second-rate", HOW.rate)}
${chartBlock("per-second-latency", HOW.latency)}
${chartBlock("per-second-errors", HOW.errors)}
${chartBlock("per-connection", HOW.conns)}
<h2>Configuration</h2>${factsTable(config)}
<h2>Machine</h2>${factsTable(machine as unknown as Record<string, unknown>)}`;
  return reportPage(`vlsbench: ${title}`, body, { ladder: LADDER, charts });
}
