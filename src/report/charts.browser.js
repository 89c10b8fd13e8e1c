// Draws the charts of a vlsbench HTML report with uPlot. Runs in the
// browser, inlined by src/report/page.ts after uPlot itself; reads the
// global REPORT_DATA: { ladder, charts: [spec] }, each spec naming the id of
// its container and its kind:
//   spectrum { title, series: [{ label, y }] }        latency against 1/(1-p)
//   bars     { title, ylabel, items: [{ label, v, min?, max? }] }
//   dots     { title, ylabel, labels, series: [{ label, y }] }
//   lines    { title, xlabel, ylabel, x, series: [{ label, y, bars? }] }
// Charts take their container's width and follow the window's; the legend
// under each shows the values under the cursor.
"use strict";
(function () {
  const D = globalThis.REPORT_DATA;
  const COLORS = ["#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#17becf", "#8c564b", "#e377c2", "#bcbd22", "#7f7f7f"];
  const color = (i) => COLORS[i % COLORS.length];

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
  const num = (v, unit) => (v == null || Number.isNaN(v) ? "-" : (Math.abs(v) >= 100 ? v.toFixed(0) : v.toFixed(1)) + (unit ? " " + unit : ""));
  const widthOf = (el) => Math.max(320, el.clientWidth);

  function spectrum(el, c) {
    const last = Math.max(-1, ...c.series.map((s) => lastDefined(s.y)));
    if (last < 1) return null;
    return [
      {
        scales: { x: { distr: 3, range: [1, D.ladder[last]] }, y: { distr: 3 } },
        axes: [
          { label: "percentile", splits: (u, i, min, max) => powersOfTen(min, max), values: (u, xs) => xs.map(percentLabel) },
          { label: "latency (µs)", size: 70 },
        ],
        series: [
          { label: "percentile", value: (u, x) => (x == null ? "-" : percentLabel(x)) },
          ...c.series.map((s, i) => ({ label: s.label, stroke: color(i), width: 2, dash: s.dash ? [6, 4] : undefined, value: (u, v) => num(v, "µs") })),
        ],
      },
      [D.ladder.slice(0, last + 1), ...c.series.map((s) => s.y.slice(0, last + 1))],
    ];
  }

  // Category x axis: labels may hold "\n" for two lines.
  function categoryAxis(labels) {
    const lines = Math.max(1, ...labels.map((l) => l.split("\n").length));
    return { splits: () => labels.map((_, i) => i), values: (u, xs) => xs.map((i) => (labels[i] !== undefined ? labels[i] : "")), size: 16 * lines + 18, gap: 6 };
  }

  function bars(el, c) {
    if (!c.items.length) return null;
    const labels = c.items.map((x) => x.label);
    const ranged = c.items.some((x) => x.min != null && x.max != null && x.min !== x.max);
    const top = Math.max(1, ...c.items.map((x) => (x.max != null ? x.max : x.v))) * 1.1;
    const mark = (fill) => ({ show: true, size: 9, fill, stroke: "#222" });
    return [
      {
        scales: { x: { time: false, range: [-0.5, labels.length - 0.5] }, y: { range: [0, top] } },
        axes: [categoryAxis(labels), { label: c.ylabel, size: 80 }],
        series: [
          { label: "run", value: (u, i) => (labels[i] !== undefined ? labels[i].replace(/\n/g, " ") : "-") },
          { label: ranged ? `${c.ylabel} (median)` : c.ylabel, fill: "#1f77b4aa", stroke: "#1f77b4", paths: uPlot.paths.bars({ size: [0.6, 90] }), points: { show: false }, value: (u, v) => num(v) },
          ...(ranged
            ? [
                { label: "min of rounds", stroke: "#222", paths: () => null, points: mark("#fff"), value: (u, v) => num(v) },
                { label: "max of rounds", stroke: "#222", paths: () => null, points: mark("#222"), value: (u, v) => num(v) },
              ]
            : []),
        ],
      },
      [labels.map((_, i) => i), c.items.map((x) => x.v), ...(ranged ? [c.items.map((x) => x.min), c.items.map((x) => x.max)] : [])],
    ];
  }

  function dots(el, c) {
    if (!c.labels.length) return null;
    const top = Math.max(1, ...c.series.flatMap((s) => s.y.filter((v) => v != null))) * 1.1;
    return [
      {
        scales: { x: { time: false, range: [-0.5, c.labels.length - 0.5] }, y: { range: [0, top] } },
        axes: [categoryAxis(c.labels), { label: c.ylabel, size: 80 }],
        series: [
          { label: "run", value: (u, i) => (c.labels[i] !== undefined ? c.labels[i].replace(/\n/g, " ") : "-") },
          ...c.series.map((s, i) => ({ label: s.label, stroke: color(i), paths: () => null, points: { show: true, size: 11, fill: color(i) }, value: (u, v) => num(v) })),
        ],
      },
      [c.labels.map((_, i) => i), ...c.series.map((s) => s.y)],
    ];
  }

  // Whole-number steps for an x of seconds or connection numbers.
  const INTEGER_STEPS = [1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000, 10000, 20000, 50000, 100000];

  function lines(el, c) {
    if (!c.x.length) return null;
    // Bars are centred on their x: half a step of room at both ends.
    const xr = c.series.some((s) => s.bars) ? [c.x[0] - 0.5, c.x[c.x.length - 1] + 0.5] : null;
    return [
      {
        scales: { x: { time: false, ...(xr ? { range: xr } : {}) }, y: c.logY ? { distr: 3 } : { range: (u, min, max) => [0, Math.max(1, max) * 1.1] } },
        axes: [{ label: c.xlabel, incrs: INTEGER_STEPS }, { label: c.ylabel, size: 80 }],
        series: [
          { label: c.xlabel, value: (u, v) => num(v) },
          ...c.series.map((s, i) => ({
            label: s.label,
            stroke: color(i),
            width: 2,
            ...(s.bars ? { fill: color(i) + "aa", paths: uPlot.paths.bars({ size: [0.8, 40] }), points: { show: false } } : {}),
            value: (u, v) => num(v, s.unit),
          })),
        ],
      },
      [c.x, ...c.series.map((s) => s.y)],
    ];
  }

  const KINDS = { spectrum, bars, dots, lines };
  const drawn = [];
  for (const c of D.charts) {
    const el = document.getElementById(c.id);
    if (!el) continue;
    const made = KINDS[c.kind](el, c);
    if (!made) continue;
    const [opts, data] = made;
    const height = c.height || 360;
    drawn.push({ el, height, u: new uPlot({ title: c.title, width: widthOf(el), height, ...opts }, data, el) });
  }
  let pending = 0;
  addEventListener("resize", () => {
    cancelAnimationFrame(pending);
    pending = requestAnimationFrame(() => drawn.forEach((d) => d.u.setSize({ width: widthOf(d.el), height: d.height })));
  });
})();
