/**
 * `bun run server`: the multi-worker VLS echo server.
 * Prints one line `ready HOST:PORT backend=B mode=M workers=N echo=js|native`
 * when it accepts connections; on SIGINT/SIGTERM stops, prints per-worker
 * counters (stderr, and JSON on stdout with --counters-json) and exits 0.
 */
import { parseStrict, runCli, intFlag, choiceFlag, hostFlag, UsageError } from "./args.ts";
import type { ServerConfig, ServerReport } from "../server/server.ts";

const USAGE = `usage: bun run server [options]

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
  -h, --help               this text
`;

const OPTIONS = {
  backend: { type: "string" },
  mode: { type: "string" },
  workers: { type: "string" },
  host: { type: "string" },
  port: { type: "string" },
  "max-connections": { type: "string" },
  "counters-json": { type: "boolean" },
  help: { type: "boolean", short: "h" },
} as const;

/** Validates argv into a ServerConfig (throws UsageError). */
export function parseServerArgs(argv: string[]): (ServerConfig & { countersJson: boolean }) | null {
  const { values: v } = parseStrict(argv, OPTIONS);
  if (v.help) return null;
  return {
    backend: choiceFlag("backend", v.backend, "kernel", ["kernel", "vpp"] as const),
    mode: choiceFlag("mode", v.mode, "single", ["single", "thread", "process"] as const),
    workers: intFlag("workers", v.workers, 2, 1, 32),
    host: hostFlag("host", v.host, "127.0.0.1"),
    port: intFlag("port", v.port, 7000, 0, 65535),
    maxConnections: intFlag("max-connections", v["max-connections"], 100_000, 1, 10_000_000),
    countersJson: v["counters-json"] ?? false,
  };
}

/** Human-readable per-worker counters. */
export function formatReport(r: ServerReport): string {
  const lines: string[] = [];
  for (const w of r.workers)
    lines.push(
      `worker ${w.id} (vcl ${w.vclWorker}): accepted=${w.accepted} served=${w.adopted} messages=${w.messages} bytesIn=${w.bytesIn} bytesOut=${w.bytesOut} errors=${w.errors} resets=${w.resets} refused=${w.refused}`,
    );
  const n = r.native as { workers?: Array<Record<string, number>>; locks?: Record<string, { acquired: number; contended: number }>; childCleanups?: number };
  for (const w of n.workers ?? [])
    lines.push(
      `vcl worker ${w.index} pid ${w.pid}: accepts=${w.accepts} reads=${w.readCalls} writes=${w.writeCalls} bytesIn=${w.bytesIn} bytesOut=${w.bytesOut} errors=${w.errors} migrations ok/failed/timedout=${w.migrationsOk}/${w.migrationsFailed}/${w.migrationsTimedOut} rpcs sent/served=${w.rpcsSent}/${w.rpcsServed} listenerStarts=${w.listenerStarts}`,
    );
  if (n.locks)
    lines.push(
      "locks " + Object.entries(n.locks).map(([k, l]) => `${k}=${l.acquired}/${l.contended}`).join(" ") + " (acquired/contended)",
    );
  if (n.childCleanups !== undefined) lines.push(`child cleanups=${n.childCleanups}`);
  return lines.join("\n");
}

if (import.meta.main) {
  runCli("server", async () => {
    const cfg = parseServerArgs(process.argv.slice(2));
    if (!cfg) {
      process.stdout.write(USAGE);
      return 0;
    }
    if (cfg.backend === "vpp") throw new UsageError("--backend vpp: the VPP backend is not available yet in this build; use --backend kernel");
    const { startServer } = await import("../server/server.ts");
    // Handlers before the ready line: a stop right after it must be clean.
    const stopSignal = new Promise<void>((resolve) => {
      process.once("SIGINT", resolve);
      process.once("SIGTERM", resolve);
    });
    const srv = await startServer(cfg);
    process.stdout.write(`ready ${srv.host}:${srv.port} backend=${cfg.backend} mode=${cfg.mode} workers=${cfg.workers} echo=${srv.echo}\n`);
    await stopSignal;
    const report = await srv.stop();
    process.stderr.write(formatReport(report) + "\n");
    if (cfg.countersJson) process.stdout.write(JSON.stringify({ counters: report }) + "\n");
    return 0;
  });
}
