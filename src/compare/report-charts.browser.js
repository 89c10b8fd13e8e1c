// Draws the charts of a comparison report with uPlot. Runs in the browser,
// inlined into the HTML by html.ts after uPlot itself; reads its data from
// the global REPORT_DATA ({ ladder, spectra, throughput, rpc, accepts }).
"use strict";
(function () {
  const D = globalThis.REPORT_DATA;
  const COLORS = ["#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#17becf", "#8c564b", "#e377c2"];
  const WIDTH = 900;

  // x = 1/(1-p): 1 -> "0%", 10 -> "90%", 100 -> "99%", 1000 -> "99.9%".
  function percentLabel(x) {
    if (!(x >= 1)) return "";
    const decimals = Math.max(0, Math.ceil(Math.log10(x) - 1e-9) - 2);
    return (100 * (1 - 1 / x)).toFixed(decimals) + "%";
  }
  const powersOfTen = (min, max) => {
    const out = [];
    for (let x = 1; x <= max * 1.0001; x *= 10) if (x >= min / 1.0001) out.push(x);
    return out;
  };
  const lastDefined = (ys) => ys.reduce((k, y, i) => (y == null ? k : i), -1);

  /** One line per series over the percentile ladder, both axes log. */
  function spectrumChart(el, title, series) {
    const last = Math.max(...series.map((s) => lastDefined(s.y)));
    if (last < 1) return;
    const xmax = D.ladder[last];
    new uPlot(
      {
        title,
        width: WIDTH,
        height: 360,
        scales: { x: { distr: 3, range: [1, xmax] }, y: { distr: 3 } },
        axes: [
          { label: "percentile", splits: (u, i, min, max) => powersOfTen(min, max), values: (u, xs) => xs.map(percentLabel) },
          { label: "latency (µs)", size: 70 },
        ],
        series: [
          { label: "percentile", value: (u, x) => (x == null ? "-" : percentLabel(x)) },
          ...series.map((s, i) => ({ label: s.label, stroke: COLORS[i % COLORS.length], width: 2, value: (u, v) => (v == null ? "-" : v.toFixed(1) + " µs") })),
        ],
      },
      [D.ladder.slice(0, last + 1), ...series.map((s) => s.y.slice(0, last + 1))],
      el,
    );
  }

  /** Vertical bars, y from zero; a label may hold "\n" for two lines. */
  function barChart(el, title, items, ylabel) {
    if (!items.length) return;
    const top = Math.max(1, ...items.map((x) => x.v)) * 1.1;
    new uPlot(
      {
        title,
        width: WIDTH,
        height: 320,
        scales: { x: { time: false, range: [-0.5, items.length - 0.5] }, y: { range: [0, top] } },
        axes: [
          { splits: () => items.map((_, i) => i), values: (u, xs) => xs.map((i) => (items[i] ? items[i].label : "")), size: 56, gap: 6 },
          { label: ylabel, size: 70 },
        ],
        series: [
          { label: "run", value: (u, i) => (items[i] ? items[i].label.replace("\n", " ") : "-") },
          { label: ylabel, fill: "#1f77b4aa", stroke: "#1f77b4", paths: uPlot.paths.bars({ size: [0.6, 80] }), points: { show: false } },
        ],
      },
      [items.map((_, i) => i), items.map((x) => x.v)],
      el,
    );
  }

  const byId = (id) => document.getElementById(id);
  spectrumChart(byId("spectrum-closed"), "Latency by percentile, closed loop", D.spectra.filter((s) => s.point === "closed"));
  spectrumChart(byId("spectrum-rate"), "Latency by percentile, fixed rate (corrected for coordinated omission)", D.spectra.filter((s) => s.point === "rate"));
  barChart(byId("throughput"), "Throughput", D.throughput, "msgs/s");
  if (D.rpc.length) spectrumChart(byId("rpc"), "Migration under load (thread mode): the migrating call, and the RPC where observable", D.rpc);
  barChart(byId("accepts"), "Accepts per worker (closed loop): listener sharing", D.accepts, "accepts");
})();
