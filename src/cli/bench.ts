/**
 * `bun run bench`: the load generator. Without --target it starts its own
 * server child (--backend/--mode/--server-workers) on a free port and stops
 * it afterwards, adding the server's counters to the report.
 * Exit: 0 no errors, 1 errors counted, 2 misuse.
 */
import { writeFileSync } from "node:fs";
import { parseStrict, runCli, intFlag, choiceFlag, durationFlag, sizeFlag, hostPortFlag, UsageError } from "./args.ts";

const USAGE = `usage: bun run bench [options]

  --target HOST:PORT       server to load; without it bench starts its own
  --backend kernel|vpp     backend of the started server (default kernel)
  --mode single|thread|process
                           VLS mode of the started server (default single)
  --server-workers N       workers of the started server (default 2)
  --connections C          connections in total (default 32, 1..100000)
  --workers W              load-generator Bun Workers (default 2, 1..64)
  --duration D             measured time, e.g. 10s, 500ms, 2m (default 10s)
  --warmup D               time before measuring, excluded (default 2s)
  --size BYTES             message size, e.g. 64, 1k, 1m (default 64)
  --timeout D              a message not echoed within D is an error (default 5s)
  --connect-timeout D      connect deadline (default 3s)
  --json FILE              write the report as JSON
  --vpp-topology cut-through|stack
                           (vpp) how the load reaches the server through VPP
  -h, --help               this text

With --backend vpp, bench starts one VPP (found in $VPP_PREFIX or FD.io's
package places), the server attaches to it, and the load generator is a VCL
app of its own.
`;

const OPTIONS = {
  target: { type: "string" },
  backend: { type: "string" },
  mode: { type: "string" },
  "server-workers": { type: "string" },
  connections: { type: "string" },
  workers: { type: "string" },
  duration: { type: "string" },
  warmup: { type: "string" },
  size: { type: "string" },
  timeout: { type: "string" },
  "connect-timeout": { type: "string" },
  json: { type: "string" },
  "vpp-topology": { type: "string" },
  help: { type: "boolean", short: "h" },
} as const;

/** Validated bench arguments. */
export function parseBenchArgs(argv: string[]) {
  const { values: v } = parseStrict(argv, OPTIONS);
  if (v.help) return null;
  const connections = intFlag("connections", v.connections, 32, 1, 100_000);
  const a = {
    target: v.target === undefined ? null : hostPortFlag("target", v.target),
    backend: choiceFlag("backend", v.backend, "kernel", ["kernel", "vpp"] as const),
    mode: choiceFlag("mode", v.mode, "single", ["single", "thread", "process"] as const),
    serverWorkers: intFlag("server-workers", v["server-workers"], 2, 1, 32),
    connections,
    workers: Math.min(intFlag("workers", v.workers, 2, 1, 64), connections),
    durationSec: durationFlag("duration", v.duration, 10),
    warmupSec: durationFlag("warmup", v.warmup, 2),
    size: sizeFlag("size", v.size, 64, 1, 16 << 20),
    timeoutSec: durationFlag("timeout", v.timeout, 5, 3600),
    connectTimeoutSec: durationFlag("connect-timeout", v["connect-timeout"], 3, 600),
    json: v.json ?? null,
    vppTopology: choiceFlag("vpp-topology", v["vpp-topology"], "cut-through", ["cut-through", "stack"] as const),
  };
  if (v["vpp-topology"] && a.backend !== "vpp") throw new UsageError("--vpp-topology needs --backend vpp");
  if (a.durationSec <= 0) throw new UsageError("--duration must be more than 0");
  if (a.timeoutSec <= 0 || a.connectTimeoutSec <= 0) throw new UsageError("--timeout and --connect-timeout must be more than 0");
  if (a.target && (v.backend || v.mode || v["server-workers"])) throw new UsageError("--backend/--mode/--server-workers configure a started server; they cannot be used with --target");
  return a;
}

if (import.meta.main) {
  runCli("bench", async () => {
    const a = parseBenchArgs(process.argv.slice(2));
    if (!a) {
      process.stdout.write(USAGE);
      return 0;
    }
    const { appInit } = await import("../native/vls.ts");
    const { runLoad, errorTotal } = await import("../loadgen/run.ts");
    const { startServerChild } = await import("../loadgen/server-child.ts");
    const { formatTable, toReport } = await import("../loadgen/report.ts");
    let vpp: import("../vpp/run-setup.ts").VppRun | null = null;
    if (a.backend === "vpp") {
      const { findVpp, vppNotFoundReason } = await import("../vpp/find.ts");
      if (!findVpp()) throw new UsageError(vppNotFoundReason());
      const { prepareVppRun } = await import("../vpp/run-setup.ts");
      vpp = await prepareVppRun(a.vppTopology);
      vpp.vpp.exited.then((code) => {
        if (vppStopping) return;
        process.stderr.write(`bench: VPP exited (status ${code}) mid-run\n`);
        process.exit(1);
      });
    }
    let vppStopping = false;
    // The load generator is a VLS app of its own: per-thread workers, so
    // its threads never contend on each other's locks.
    appInit(a.backend, "thread", vpp?.clientOptions ?? "");
    const server = a.target
      ? null
      : await startServerChild({ backend: a.backend, mode: a.mode, workers: a.serverWorkers, host: vpp?.serverHost ?? "127.0.0.1", extraArgs: vpp?.serverArgs }).catch(async (e) => {
          vppStopping = true;
          await vpp?.vpp.stop();
          throw e;
        });
    const target = a.target ?? { host: server!.host, port: server!.port };
    let result;
    try {
      result = await runLoad({ ...target, connections: a.connections, workers: a.workers, size: a.size, warmupSec: a.warmupSec, durationSec: a.durationSec, timeoutSec: a.timeoutSec, connectTimeoutSec: a.connectTimeoutSec });
    } finally {
      vppStopping = true;
      var counters = server ? await server.stop() : null;
      await vpp?.vpp.stop();
    }
    const cfg = { target: `${target.host}:${target.port}`, ...(server ? { backend: a.backend, mode: a.mode, serverWorkers: a.serverWorkers } : {}), ...(vpp ? { vppTopology: a.vppTopology, vppVersion: vpp.version } : {}), connections: a.connections, workers: a.workers, size: a.size, durationSec: a.durationSec, warmupSec: a.warmupSec, timeoutSec: a.timeoutSec };
    const title = server ? `vlsbench ${target.host}:${target.port} (started: backend=${a.backend} mode=${a.mode} workers=${a.serverWorkers})` : `vlsbench ${target.host}:${target.port}`;
    process.stdout.write(formatTable({ ...target, ...a }, result, title) + "\n");
    if (a.json) writeFileSync(a.json, JSON.stringify(toReport(cfg, result, server ? { readyLine: server.readyLine, counters } : undefined), null, 2) + "\n");
    return errorTotal(result.errors) > 0 ? 1 : 0;
  });
}
