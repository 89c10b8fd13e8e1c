/**
 * `bun run server`: the multi-worker VLS echo server.
 * Prints one line `ready HOST:PORT backend=B mode=M workers=N echo=js|native`
 * when it accepts connections; on SIGINT/SIGTERM stops, prints per-worker
 * counters (stderr, and JSON on stdout with --counters-json) and exits 0.
 */
import { existsSync } from "node:fs";
import { parseStrict, runCli, intFlag, choiceFlag, hostFlag, sizeFlag, vppNamespaceFlag, UsageError } from "../common/args.ts";
import type { ServerReport } from "../server/server.ts";
import { STACK_SERVER_ADDR, VCL_DEFAULTS } from "../vpp/config.ts";
import { formatReadyLine } from "../common/ready-line.ts";

/** `server --help`. */
export const USAGE = `usage: bun run server [options]

  --backend kernel|vpp     VLS implementation (default kernel: embedded, no VPP needed)
  --mode single|thread|process
                           VLS locking mode (default single)
  --workers N              Bun Worker threads, or forked native workers in
                           process mode (default 2, 1..32)
  --host ADDR              address to listen on (default 127.0.0.1)
  --port N                 port, 0 picks a free one (default 7000)
  --max-connections N      connections beyond this are accepted and closed at
                           once, and counted as refused (default 100000)
  --counters-json          print the final counters as one JSON line on stdout
  --vpp-topology cut-through|stack
                           (vpp) both apps in VPP's default namespace, or two
                           namespaces routed through VPP's TCP (default cut-through)
  --vpp-socket PATH        (vpp) attach to a running VPP's app socket instead
                           of starting one
  --vpp-namespace ID:SECRET
                           (vpp) app namespace to attach in, with --vpp-socket
  --vcl-fifo BYTES         (vpp) VCL rx and tx fifo size (default 64k)
  --vcl-event-queue N      (vpp) VCL event queue size (default 4096)
  --vpp-workarounds on|off (vpp) off: call VLS the way a plain application
                           would, without vlsbench's workarounds of VPP defects
                           (single mode with several workers: backlog-only
                           accepts, epoll_wait turns, edge-triggered sessions,
                           lost-event sweeps; process mode: the SIGCHLD
                           handler); shows VLS's raw behaviour (default on)
  -h, --help               this text

VPP is looked for in $VPP_PREFIX, else /usr, /usr/local and /opt/vpp.
`;

/** The flags `server` accepts (every one is in USAGE: test/cli-help.test.ts). */
export const OPTIONS = {
  backend: { type: "string" },
  mode: { type: "string" },
  workers: { type: "string" },
  host: { type: "string" },
  port: { type: "string" },
  "max-connections": { type: "string" },
  "counters-json": { type: "boolean" },
  "vpp-topology": { type: "string" },
  "vpp-socket": { type: "string" },
  "vpp-namespace": { type: "string" },
  "vcl-fifo": { type: "string" },
  "vcl-event-queue": { type: "string" },
  "vpp-workarounds": { type: "string" },
  help: { type: "boolean", short: "h" },
} as const;

/** Validates argv into a ServerConfig (throws UsageError). */
export function parseServerArgs(argv: string[]) {
  const { values: v } = parseStrict(argv, OPTIONS);
  if (v.help) return null;
  const backend = choiceFlag("backend", v.backend, "kernel", ["kernel", "vpp"] as const);
  const topology = choiceFlag("vpp-topology", v["vpp-topology"], "cut-through", ["cut-through", "stack"] as const);
  if (backend === "kernel" && (v["vpp-topology"] || v["vpp-socket"] || v["vpp-namespace"] || v["vcl-fifo"] || v["vcl-event-queue"] || v["vpp-workarounds"]))
    throw new UsageError("--vpp-*/--vcl-* options need --backend vpp");
  const namespace = vppNamespaceFlag(v["vpp-namespace"], v["vpp-socket"]);
  const fifo = sizeFlag("vcl-fifo", v["vcl-fifo"], 65536, 4096, 1 << 30);
  return {
    backend,
    mode: choiceFlag("mode", v.mode, "single", ["single", "thread", "process"] as const),
    workers: intFlag("workers", v.workers, 2, 1, 32),
    host: hostFlag("host", v.host, backend === "vpp" && topology === "stack" ? STACK_SERVER_ADDR : "127.0.0.1"),
    port: intFlag("port", v.port, 7000, 0, 65535),
    maxConnections: intFlag("max-connections", v["max-connections"], 100_000, 1, 10_000_000),
    vppWorkarounds: choiceFlag("vpp-workarounds", v["vpp-workarounds"], "on", ["on", "off"] as const) === "on",
    countersJson: v["counters-json"] ?? false,
    vpp: {
      topology,
      socket: v["vpp-socket"] ?? null,
      namespace,
      vcl: { ...VCL_DEFAULTS, rxFifo: fifo, txFifo: fifo, eventQueueSize: intFlag("vcl-event-queue", v["vcl-event-queue"], 4096, 64, 1 << 20) },
    },
  };
}

/** Human-readable per-worker counters. */
export function formatReport(r: ServerReport): string {
  const lines: string[] = [];
  for (const w of r.workers)
    lines.push(
      `worker ${w.id} (vcl ${w.vclWorker}): accepted=${w.accepted} served=${w.adopted} messages=${w.messages} bytesIn=${w.bytesIn} bytesOut=${w.bytesOut} errors=${w.errors} resets=${w.resets} refused=${w.refused}${w.sweepFound ? ` lost-event sweeps=${w.sweepFound}` : ""}`,
    );
  const n = r.native as { backend?: number; workers?: Array<Record<string, number>>; locks?: Record<string, { acquired: number; contended: number }>; childCleanups?: number; forks?: number };
  if (n.backend === VPP_BACKEND_ID) {
    // VPP's VLS keeps no counters vlsbench can read: only what vlsbench's
    // own calls counted (accepts per VCL worker, forks) is shown.
    for (const w of n.workers ?? []) lines.push(`vcl worker ${w.index} pid ${w.pid}: accepts=${w.accepts}`);
    lines.push(`forks=${n.forks ?? 0}; locks, migrations and child cleanups: not observable inside VPP's VLS`);
  } else {
    appendModelCounters(lines, n);
  }
  if (r.rpcLatency.count) lines.push(`migration RPC latency (us): p50=${r.rpcLatency.us.p50} p99=${r.rpcLatency.us.p99} max=${r.rpcLatency.us.max} (${r.rpcLatency.count} RPCs)`);
  return lines.join("\n");
}

/** The backend number of VPP in the native counters (VLSB_BACKEND_VPP). */
const VPP_BACKEND_ID = 1;

/** The embedded model's counters, every one of them. */
function appendModelCounters(lines: string[], n: { workers?: Array<Record<string, number>>; locks?: Record<string, { acquired: number; contended: number }>; childCleanups?: number }): void {
  for (const w of n.workers ?? [])
    lines.push(
      `vcl worker ${w.index} pid ${w.pid}: accepts=${w.accepts} reads=${w.readCalls} writes=${w.writeCalls} bytesIn=${w.bytesIn} bytesOut=${w.bytesOut} errors=${w.errors} migrations ok/failed/timedout=${w.migrationsOk}/${w.migrationsFailed}/${w.migrationsTimedOut} rpcs sent/served=${w.rpcsSent}/${w.rpcsServed} listenerStarts=${w.listenerStarts}`,
    );
  if (n.locks)
    lines.push(
      "locks " + Object.entries(n.locks).map(([k, l]) => `${k}=${l.acquired}/${l.contended}`).join(" ") + " (acquired/contended)",
    );
  if (n.childCleanups !== undefined) lines.push(`child cleanups=${n.childCleanups}`);
}

/**
 * Exits 1 (bounded: checked every 500 ms) when what the server lives on is
 * gone: the app socket of an attached VPP (--vpp-socket), or the process
 * that started it (VLSB_PARENT_PID, set by bench for its server child).
 */
function watchLifelines(vppSocket: string | null, stopping: () => boolean): void {
  const parent = Number(process.env.VLSB_PARENT_PID ?? 0);
  if (!vppSocket && !parent) return;
  const alive = (pid: number) => {
    try {
      process.kill(pid, 0);
      return true;
    } catch {
      return false;
    }
  };
  setInterval(() => {
    if (stopping()) return;
    let why = "";
    if (vppSocket && !existsSync(vppSocket)) why = `VPP's app socket ${vppSocket} is gone (VPP exited?)`;
    else if (parent && !alive(parent)) why = `the process that started it (pid ${parent}) is gone`;
    if (!why) return;
    process.stderr.write(`server: ${why}; stopping\n`);
    process.exit(1);
  }, 500).unref();
}

if (import.meta.main) {
  runCli("server", async () => {
    const cfg = parseServerArgs(process.argv.slice(2));
    if (!cfg) {
      process.stdout.write(USAGE);
      return 0;
    }
    const { startServer } = await import("../server/server.ts");
    let vpp: import("../vpp/instance.ts").VppInstance | null = null;
    let appOptions = "";
    let stopping = false;
    if (cfg.backend === "vpp") {
      const { findVpp, vppNotFoundReason } = await import("../vpp/find.ts");
      const install = findVpp();
      if (!install) throw new UsageError(vppNotFoundReason());
      const { startVpp, attachVpp } = await import("../vpp/instance.ts");
      vpp = cfg.vpp.socket ? attachVpp(install, cfg.vpp.socket, cfg.vpp.namespace) : await startVpp(install, cfg.vpp.topology);
      const conf = vpp.writeVcl("server", cfg.mode, cfg.vpp.vcl);
      appOptions = `lib=${install.libvppcom};vcl_config=${conf};app_name=vlsbench-server-${process.pid}`;
      vpp.exited.then((code) => {
        if (stopping) return;
        process.stderr.write(`server: VPP exited (status ${code}) under the server; stopping\n`);
        process.exit(1);
      });
    }
    // Handlers before the ready line: a stop right after it must be clean.
    // They stay installed: a second signal during the stop is ignored (the
    // default action would kill the server before it prints its counters).
    let signalled = false;
    const stopSignal = new Promise<void>((resolve) => {
      const onSignal = (sig: string) => {
        if (signalled) return void process.stderr.write(`server: ${sig} while stopping; still stopping\n`);
        signalled = true;
        resolve();
      };
      process.on("SIGINT", onSignal);
      process.on("SIGTERM", onSignal);
    });
    let srv;
    try {
      srv = await startServer({ ...cfg, appOptions });
    } catch (e) {
      stopping = true;
      await vpp?.stop();
      throw e;
    }
    const fields = { backend: cfg.backend, mode: cfg.mode, workers: cfg.workers, echo: srv.echo, ...(cfg.backend === "vpp" && !cfg.vppWorkarounds ? { "vpp-workarounds": "off" } : {}) };
    process.stdout.write(formatReadyLine(srv.host, srv.port, fields) + "\n");
    watchLifelines(cfg.vpp.socket, () => stopping);
    const failure = await Promise.race([stopSignal.then(() => null), srv.failed]);
    stopping = true;
    if (failure) process.stderr.write(`server: ${failure}; stopping\n`);
    const report = await srv.stop();
    await vpp?.stop();
    process.stderr.write(formatReport(report) + "\n");
    if (cfg.countersJson) process.stdout.write(JSON.stringify({ counters: report }) + "\n");
    return failure ? 1 : 0;
  });
}
