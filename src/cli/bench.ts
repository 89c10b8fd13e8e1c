/**
 * `bun run bench`: the load generator. Without --target it starts its own
 * server child (--backend/--mode/--server-workers) on a free port and stops
 * it afterwards, adding the server's counters to the report.
 * `bun run bench merge a.hlog b.hlog ...` adds interval logs together.
 * `bun run bench --compare ...` runs every backend x mode side by side and
 * `bun run bench diff a.json b.json` compares two reports (src/cli/compare.ts).
 * Exit: 0 no errors, 1 errors counted or an objective (--slo) failed, 2 misuse.
 */
import { writeFileSync } from "node:fs";
import { parseStrict, runCli, intFlag, choiceFlag, durationFlag, sizeListFlag, rateFlag, hostPortFlag, vppNamespaceFlag, UsageError } from "../common/args.ts";
import { writableFileFlag } from "../report/output-path.ts";

/** `bench --help` without its --compare, diff and merge parts. */
export const USAGE = `usage: bun run bench [options]               load a server, print the latency table
       bun run bench --compare [options]     every backend x mode side by side
       bun run bench diff A.json B.json      compare two reports
       bun run bench merge FILE.hlog ...     add interval logs together

  --target HOST:PORT       server to load; without it bench starts its own
  --backend kernel|vpp     backend of the started server (default kernel)
  --mode single|thread|process
                           VLS mode of the started server (default single)
  --server-workers N       workers of the started server (default 2)
  --connections C          connections in total (default 32, 1..100000)
  --workers W              load-generator Bun Workers (default 2, 1..63)
  --rate N                 open loop: N messages/s in total (e.g. 10k), sent on
                           schedule whatever the replies; latency counts from the
                           intended send time (and, uncorrected, from the actual one)
  --pipeline D             messages in flight per connection: closed loop (default 1),
                           or with --rate the most allowed (default: no limit)
  --duration D             measured time, e.g. 10s, 500ms, 2m (default 10s)
  --count N                measure N messages instead of a duration
  --warmup D               time before measuring, excluded (default 2s)
  --size SIZES             message size: 64, 1k, 1m; a list 64,1k,16k runs one row
                           per size (a sweep); a range 64-4k draws sizes at random
  --timeout D              a message not echoed within D is an error (default 5s)
  --connect-timeout D      connect deadline (default 3s)
  --json FILE              write the report as JSON
  --hgrm FILE              write the latency percentile distribution (HdrHistogram .hgrm)
  --hlog FILE              write the HdrHistogram interval log, one interval per second
  --html FILE              write a self-contained HTML page of the run (spectrum,
                           per-second throughput, latency and errors, per connection)
  --slo SPEC               objectives, e.g. "p99<500us,p999<2ms,errors=0": each is
                           printed as pass/fail, and bench exits 1 if one fails
  --vpp-topology cut-through|stack
                           (vpp) how the load reaches the server through VPP
  --vpp-workarounds on|off (vpp) off: the started server calls VLS as a plain
                           application would (see server --help; default on)
  --vpp-socket PATH        (vpp) attach to a running VPP's app socket instead of
                           starting one; with --target, load a server already on it
  --vpp-namespace ID:SECRET
                           (vpp) app namespace to attach in, with --vpp-socket
  -h, --help               this text

On a terminal (and not in CI) one progress line is printed per second.
With a sweep, --hgrm, --hlog and --html write one file per size (lat.hgrm -> lat.64.hgrm).
With --backend vpp, bench starts one VPP (found in $VPP_PREFIX or FD.io's
package places), the server attaches to it, and the load generator is a VCL
app of its own.
`;

/** The flags `bench` accepts (every one is in USAGE: test/cli-help.test.ts). */
export const OPTIONS = {
  target: { type: "string" },
  backend: { type: "string" },
  mode: { type: "string" },
  "server-workers": { type: "string" },
  connections: { type: "string" },
  workers: { type: "string" },
  rate: { type: "string" },
  pipeline: { type: "string" },
  duration: { type: "string" },
  count: { type: "string" },
  warmup: { type: "string" },
  size: { type: "string" },
  timeout: { type: "string" },
  "connect-timeout": { type: "string" },
  json: { type: "string" },
  hgrm: { type: "string" },
  hlog: { type: "string" },
  html: { type: "string" },
  slo: { type: "string" },
  "vpp-topology": { type: "string" },
  "vpp-workarounds": { type: "string" },
  "vpp-socket": { type: "string" },
  "vpp-namespace": { type: "string" },
  help: { type: "boolean", short: "h" },
} as const;

/** Most load workers: the core's 64 workers (RT_MAX_WORKERS) less bench's main thread, which registers too. */
export const MAX_LOAD_WORKERS = 63;

/** Most messages in flight per connection (the load loop's ring). */
const MAX_PIPELINE = 65536;

/** Validated bench arguments. */
export function parseBenchArgs(argv: string[]) {
  const { values: v } = parseStrict(argv, OPTIONS);
  if (v.help) return null;
  const connections = intFlag("connections", v.connections, 32, 1, 100_000);
  const rate = rateFlag("rate", v.rate, 100_000_000);
  const count = v.count === undefined ? null : intFlag("count", v.count, 0, 1, 1e12);
  const a = {
    target: v.target === undefined ? null : hostPortFlag("target", v.target),
    backend: choiceFlag("backend", v.backend, "kernel", ["kernel", "vpp"] as const),
    mode: choiceFlag("mode", v.mode, "single", ["single", "thread", "process"] as const),
    serverWorkers: intFlag("server-workers", v["server-workers"], 2, 1, 32),
    connections,
    workers: Math.min(intFlag("workers", v.workers, 2, 1, MAX_LOAD_WORKERS), connections),
    rate,
    pipeline: v.pipeline === undefined ? null : intFlag("pipeline", v.pipeline, 1, 1, MAX_PIPELINE),
    durationSec: durationFlag("duration", v.duration, 10),
    count,
    warmupSec: durationFlag("warmup", v.warmup, 2),
    sizes: sizeListFlag("size", v.size, 64, 1, 16 << 20),
    timeoutSec: durationFlag("timeout", v.timeout, 5, 3600),
    connectTimeoutSec: durationFlag("connect-timeout", v["connect-timeout"], 3, 600),
    json: v.json ?? null,
    hgrm: v.hgrm ?? null,
    hlog: v.hlog ?? null,
    html: writableFileFlag("html", v.html),
    slo: v.slo,
    vppTopology: choiceFlag("vpp-topology", v["vpp-topology"], "cut-through", ["cut-through", "stack"] as const),
    vppSocket: v["vpp-socket"] ?? null,
    vppNamespace: vppNamespaceFlag(v["vpp-namespace"], v["vpp-socket"]),
    vppWorkarounds: choiceFlag("vpp-workarounds", v["vpp-workarounds"], "on", ["on", "off"] as const),
  };
  if (v["vpp-workarounds"] && (v.backend !== "vpp" || a.target)) throw new UsageError("--vpp-workarounds configures a started server on --backend vpp");
  if ((v["vpp-topology"] || v["vpp-socket"]) && v.backend !== "vpp") throw new UsageError("--vpp-topology and --vpp-socket need --backend vpp");
  if (v["vpp-topology"] && v["vpp-socket"]) throw new UsageError("--vpp-topology starts a VPP; --vpp-socket attaches to one: use one of them");
  if (a.durationSec <= 0) throw new UsageError("--duration must be more than 0");
  if (v.duration !== undefined && count !== null) throw new UsageError("--duration and --count cannot be used together");
  if (a.timeoutSec <= 0 || a.connectTimeoutSec <= 0) throw new UsageError("--timeout and --connect-timeout must be more than 0");
  if (a.target && (v.mode || v["server-workers"])) throw new UsageError("--mode/--server-workers configure a started server; they cannot be used with --target");
  if (a.target && v.backend && !v["vpp-socket"]) throw new UsageError("--backend with --target needs --vpp-socket (the VPP the target runs on)");
  if (rate !== null && count !== null) a.durationSec = count / rate;
  return a;
}

/** FILE with the sweep row's size before its extension: lat.hgrm -> lat.64.hgrm. */
function perSizeFile(file: string, label: string, sweep: boolean): string {
  if (!sweep) return file;
  const dot = file.lastIndexOf(".");
  return dot > file.lastIndexOf("/") ? `${file.slice(0, dot)}.${label}${file.slice(dot)}` : `${file}.${label}`;
}

if (import.meta.main) {
  runCli("bench", async () => {
    const argv = process.argv.slice(2);
    if (argv[0] === "diff") {
      const { diffMain } = await import("./compare.ts");
      return diffMain(argv.slice(1));
    }
    if (argv.includes("--compare")) {
      const { compareMain } = await import("./compare.ts");
      return compareMain(argv);
    }
    if (argv[0] === "merge") {
      const { mergeMain } = await import("../loadgen/merge-command.ts");
      return mergeMain(argv.slice(1));
    }
    const a = parseBenchArgs(argv);
    if (!a) {
      const { USAGE: compareUsage, DIFF_USAGE } = await import("./compare.ts");
      const { MERGE_USAGE } = await import("../loadgen/merge-command.ts");
      process.stdout.write([USAGE, compareUsage, DIFF_USAGE, MERGE_USAGE].join("\n"));
      return 0;
    }
    const { parseSlo, evaluateSlo, formatSlo } = await import("../loadgen/slo.ts");
    const slo = a.slo !== undefined ? parseSlo(a.slo) : null;
    const { errorTotal } = await import("../loadgen/run.ts");
    const { combineRows } = await import("../loadgen/sweep.ts");
    const { formatTable, formatSweep, toReport, rowReport } = await import("../loadgen/report.ts");
    const { hgrmText, hlogText } = await import("../loadgen/hdr-files.ts");
    const { runBench } = await import("../loadgen/orchestrate.ts");
    const { rows, target, server, counters, vpp, vppStatus } = await runBench(a);
    if (vppStatus !== 0) {
      process.stderr.write(`bench: VPP exited (status ${vppStatus}) mid-run\n`);
      return 1;
    }
    const sweep = a.sizes.length > 1;
    const total = combineRows(rows.map((r) => r.result));
    const sizeCfg = sweep || a.sizes[0].lo !== a.sizes[0].hi ? a.sizes.map((s) => s.label).join(",") : a.sizes[0].lo;
    const cfg = {
      target: `${target.host}:${target.port}`, ...(server ? { backend: a.backend, mode: a.mode, serverWorkers: a.serverWorkers } : {}), ...(vpp ? { vppTopology: a.vppTopology, vppVersion: vpp.version, vppWorkarounds: a.vppWorkarounds } : {}),
      connections: a.connections, workers: a.workers, size: sizeCfg, durationSec: a.durationSec, warmupSec: a.warmupSec, timeoutSec: a.timeoutSec,
      rate: a.rate, pipeline: a.pipeline ?? (a.rate !== null ? null : 1), count: a.count, loop: a.rate !== null ? "open" : "closed", ...(a.slo !== undefined ? { slo: a.slo } : {}),
    };
    const title = server ? `vlsbench ${target.host}:${target.port} (started: backend=${a.backend} mode=${a.mode} workers=${a.serverWorkers})` : `vlsbench ${target.host}:${target.port}`;
    const info = { connections: a.connections, workers: a.workers, size: a.sizes[0].label, warmupSec: a.warmupSec, rate: a.rate, pipeline: a.pipeline, count: a.count };
    const lines = [sweep ? formatSweep(info, rows, total, title) : formatTable(info, total, title)];
    const outcomes = rows.map(({ result: r }) => {
      if (!slo) return undefined;
      const counts = { errors: errorTotal(r.errors), ...r.errors, ...r.integrity };
      return evaluateSlo(slo, { histogram: r.histograms.corrected, counts, rate: r.rate.achieved });
    });
    rows.forEach((row, i) => outcomes[i] && lines.push(...formatSlo(outcomes[i]!, sweep ? `[${row.size} B] ` : "")));
    process.stdout.write(lines.join("\n") + "\n");
    for (const { size, result: r } of rows) {
      if (a.hgrm) writeFileSync(perSizeFile(a.hgrm, size, sweep), hgrmText(r.histograms.corrected));
      if (a.hlog) writeFileSync(perSizeFile(a.hlog, size, sweep), hlogText(r.intervals, r.startEpochMs, { messages: r.messages, errors: errorTotal(r.errors) }, `vlsbench ${title}, ${size} B`));
      if (a.html) await import("../report/run-command.ts").then((m) => m.writeRunHtml(perSizeFile(a.html!, size, sweep), sweep ? `${title}, ${size} B` : title, r, cfg, vpp?.version ?? null));
    }
    if (a.json) {
      const sweepRows = sweep ? rows.map(({ size, result }, i) => ({ size, ...rowReport(result, outcomes[i]) })) : null;
      writeFileSync(a.json, JSON.stringify(toReport(cfg, rowReport(total, sweep ? undefined : outcomes[0]), sweepRows, server ? { readyLine: server.readyLine, counters } : undefined), null, 2) + "\n");
    }
    const failed = outcomes.some((o) => o?.some((x) => !x.pass));
    for (const f of total.workerFailures) process.stderr.write(`bench: load ${f} (its connections are missing from the figures)\n`);
    return errorTotal(total.errors) > 0 || failed || total.workerFailures.length > 0 ? 1 : 0;
  });
}
