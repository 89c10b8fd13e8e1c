/**
 * One `bench` run from start to end, without parsing or reporting: starts
 * VPP (--backend vpp), makes this process a VLS app of its own, starts the
 * server child unless --target names one, runs the size sweep, and stops
 * the server and VPP again, whatever happened in between.
 */
import { UsageError } from "../common/args.ts";
import { appInit } from "../native/vls.ts";
import type { SizeSpec } from "../common/args.ts";
import type { VppRun } from "../vpp/run-setup.ts";
import { runSweep, type SweepRow } from "./sweep.ts";
import { startServerChild, type ServerChild } from "./server-child.ts";
import { progressWanted, progressLine } from "./progress.ts";

/** What a bench run needs (the validated arguments of cli/bench.ts). */
export interface BenchPlan {
  target: { host: string; port: number } | null;
  backend: "kernel" | "vpp";
  mode: string;
  serverWorkers: number;
  connections: number;
  workers: number;
  rate: number | null;
  pipeline: number | null;
  durationSec: number;
  count: number | null;
  warmupSec: number;
  sizes: SizeSpec[];
  timeoutSec: number;
  connectTimeoutSec: number;
  hlog: string | null;
  html: string | null;
  vppTopology: "cut-through" | "stack";
  vppSocket: string | null;
  vppNamespace: { id: string; secret: string } | undefined;
  vppWorkarounds: "on" | "off";
}

/** What a run gives the report. */
export interface BenchOutcome {
  rows: SweepRow[];
  target: { host: string; port: number };
  /** The started server (null with --target) and its final counters. */
  server: ServerChild | null;
  counters: unknown | null;
  vpp: VppRun | null;
  /** Non-zero: VPP exited under the run with this status. */
  vppStatus: number;
}

/** Runs the plan; VPP's or the server's failure to start throws. */
export async function runBench(a: BenchPlan): Promise<BenchOutcome> {
  let vpp: VppRun | null = null;
  let vppStopping = false;
  let serverProc: { kill(signal?: number | NodeJS.Signals): void } | null = null;
  if (a.backend === "vpp") {
    const { findVpp, vppNotFoundReason } = await import("../vpp/find.ts");
    if (!findVpp()) throw new UsageError(vppNotFoundReason());
    const { prepareVppRun } = await import("../vpp/run-setup.ts");
    vpp = await prepareVppRun(a.vppSocket ? { socket: a.vppSocket, namespace: a.vppNamespace } : { topology: a.vppTopology });
    vpp.vpp.exited.then((code) => {
      if (vppStopping) return;
      process.stderr.write(`bench: VPP exited (status ${code}) mid-run\n`);
      serverProc?.kill("SIGKILL");
      process.exit(1);
    });
  }
  // The load generator is a VLS app of its own: per-thread workers, so
  // its threads never contend on each other's locks.
  appInit(a.backend, "thread", vpp?.clientOptions ?? "");
  const server = a.target
    ? null
    : await startServerChild({ backend: a.backend, mode: a.mode, workers: a.serverWorkers, host: vpp?.serverHost ?? "127.0.0.1", extraArgs: [...(vpp?.serverArgs ?? []), ...(a.vppWorkarounds === "off" ? ["--vpp-workarounds", "off"] : [])] }).catch(async (e) => {
        vppStopping = true;
        await vpp?.vpp.stop();
        throw e;
      });
  serverProc = server?.proc ?? null;
  const target = a.target ?? { host: server!.host, port: server!.port };
  const sweep = a.sizes.length > 1;
  const progress = progressWanted();
  let label = "";
  let rows: SweepRow[];
  let counters: unknown | null;
  try {
    rows = await runSweep(
      {
        ...target, connections: a.connections, workers: a.workers, size: 0, warmupSec: a.warmupSec, durationSec: a.durationSec, timeoutSec: a.timeoutSec, connectTimeoutSec: a.connectTimeoutSec,
        rate: a.rate, pipeline: a.pipeline ?? undefined, count: a.count, keepIntervals: a.hlog !== null || a.html !== null, serverPid: server?.proc.pid ?? null,
        onInterval: progress ? (iv, h) => process.stdout.write(progressLine(iv, h, label) + "\n") : undefined,
      },
      a.sizes,
      (size) => {
        label = sweep ? `${size} B ` : "";
      },
    );
  } finally {
    vppStopping = true;
    counters = server ? await server.stop() : null;
    await vpp?.vpp.stop();
  }
  // A VPP that died may end the run before its exit is seen (every
  // connection fails at once and the load stops): a stop of ours exits 0,
  // so any other status means it died under the run. A VPP started here
  // has exited by now (stop() awaited it); one attached to (--vpp-socket)
  // never settles `exited`, and the race then gives 0.
  const vppStatus = vpp ? await Promise.race([vpp.vpp.exited, Promise.resolve(0)]) : 0;
  return { rows, target, server, counters, vpp, vppStatus };
}
