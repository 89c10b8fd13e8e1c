/**
 * The cost of one migration under load (thread mode; kernel backend, or
 * `--backend vpp`: a private VPP, cut-through, started here): the
 * main thread owns N CLOSED sessions and runs an echo ping-pong of its own
 * between epoll waits (so it serves clone RPCs as a busy owner would), while
 * `--load L` further threads ping-pong on their own session pairs; a Bun
 * Worker then touches each of the N sessions once. Each touch is one
 * clone-and-share RPC; its latency is timed around the call, and the native
 * RPC latencies (request sent to answer read) are read too.
 *
 *   bun bench/migration.ts [--backend kernel|vpp] [--sessions 2000] [--load 1] [--json FILE] [--histogram]
 * Prints one JSON line last: { callUs: {p50, p99}, rpcUs: {p50, p99}, ok, failed, ... }.
 * On VPP the RPC itself is not observable: callUs (the touch, timed around
 * the call) is the figure there.
 */
import { parseArgs } from "node:util";
import { isMainThread, workerData, parentPort } from "node:worker_threads";
import { writeFileSync } from "node:fs";
import { raw, check, countersSnapshot, drainRpcLatencies } from "../src/native/ffi.ts";
import { Attr, type BackendName } from "../src/native/vls.ts";
import { findVpp, vppNotFoundReason, vppVersion } from "../src/vpp/find.ts";
import { initApp, stopApp } from "../src/check/scenarios/app.ts";
import { PingPong, runLoad } from "./migration-load.ts";
import { histogramOfNs } from "../src/common/histogram.ts";
import { median } from "./lib.ts";

const pct = (xs: number[], p: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))] ?? NaN;
};

/** Shared flags: [0] touches done, [1] touches failed, [2] stop the load, [3] load threads ready. */
type Shared = { shared: SharedArrayBuffer };

function touchSessions({ handles, shared }: Shared & { handles: number[] }): void {
  const out = new Float64Array(shared, 64);
  const flag = new Int32Array(shared, 0, 16);
  raw.vlsb_worker_register();
  let failed = 0;
  handles.forEach((h, i) => {
    const t0 = raw.vlsb_now_ns();
    const rv = raw.vlsb_attr(h, Attr.GET_FLAGS, 0, null); // first touch: migrates
    out[i] = raw.vlsb_now_ns() - t0;
    if (rv < 0) failed++;
  });
  Atomics.store(flag, 1, failed);
  Atomics.store(flag, 0, 1);
}

function loadThread({ shared, backend }: Shared & { backend: BackendName }): void {
  const flag = new Int32Array(shared, 0, 16);
  raw.vlsb_worker_register();
  Atomics.add(flag, 3, 1);
  const trips = runLoad(backend, () => Atomics.load(flag, 2) !== 0);
  parentPort!.postMessage(trips);
}

if (!isMainThread) {
  const role = workerData as { role: "touch" | "load"; backend: BackendName } & Shared & { handles: number[] };
  if (role.role === "touch") touchSessions(role);
  else loadThread(role);
  parentPort!.postMessage("done");
} else {
  const { values } = parseArgs({ options: { backend: { type: "string" }, sessions: { type: "string" }, load: { type: "string" }, json: { type: "string" }, histogram: { type: "boolean" } } });
  const n = Number(values.sessions ?? 2000);
  const loadThreads = Number(values.load ?? 1);
  const backend = (values.backend ?? "kernel") as BackendName;
  if (!Number.isInteger(n) || n < 1 || !Number.isInteger(loadThreads) || loadThreads < 0 || !["kernel", "vpp"].includes(backend)) {
    console.error("usage: bun bench/migration.ts [--backend kernel|vpp] [--sessions N>=1] [--load L>=0] [--json FILE] [--histogram]");
    process.exit(2);
  }
  const install = backend === "vpp" ? findVpp() : null;
  if (backend === "vpp" && !install) {
    console.error(`migration: ${vppNotFoundReason()}`);
    process.exit(2);
  }
  // On VPP: a private VPP (cut-through). VPP before 26.x never completes an
  // app's connect to its own listener, so there the load's session pairs
  // connect through the scenarios' relay app (another app; its extra hops
  // make the owner's echo ~100x slower, so it is used only where needed).
  const viaRelay = install !== null && Number(vppVersion(install).short.slice(0, 2)) < 26;
  await initApp(backend, "thread", "", { selfConnect: viaRelay });
  const handles = Array.from({ length: n }, () => check("create", raw.vlsb_create(0, 1)));
  const ep = check("epoll", raw.vlsb_epoll_create());
  const own = new PingPong(backend);
  own.watch(ep);
  const shared = new SharedArrayBuffer(64 + 8 * n);
  const flag = new Int32Array(shared, 0, 16);
  const evs = new Uint32Array(new ArrayBuffer(64));
  const deadline = Date.now() + 120_000;
  const loadTrips: Promise<number>[] = [];
  const loaders = Array.from({ length: loadThreads }, () => {
    const w = new Worker(import.meta.url, { workerData: { role: "load", shared, backend } } as WorkerOptions);
    loadTrips.push(new Promise((res) => w.addEventListener("message", (e) => typeof e.data === "number" && res(e.data))));
    return w;
  });
  // The owner's loop: its own echo, and clone RPCs served inside epoll_wait.
  const serve = () => {
    raw.vlsb_epoll_wait(ep, evs, 8, 5);
    own.step();
  };
  while (Atomics.load(flag, 3) < loadThreads && Date.now() < deadline) serve();
  const t0 = performance.now();
  const trips0 = own.trips;
  const toucher = new Worker(import.meta.url, { workerData: { role: "touch", handles, shared, backend } } as WorkerOptions);
  while (Atomics.load(flag, 0) === 0 && Date.now() < deadline) serve();
  const seconds = (performance.now() - t0) / 1000;
  Atomics.store(flag, 2, 1);
  // The load threads answer through the event loop once they have stopped.
  const trips = (await Promise.all(loadTrips)).reduce((a, b) => a + b, 0);
  toucher.terminate();
  for (const w of loaders) w.terminate();
  const callNs = [...new Float64Array(shared, 64)];
  const rpcNs = [...drainRpcLatencies()];
  const failed = Atomics.load(flag, 1);
  const c = countersSnapshot() as { workers: { migrationsOk: number }[] };
  const res = {
    backend,
    sessions: n,
    loadThreads,
    /** The load's session pairs went through a relay app (VPP before 26.x). */
    viaRelay,
    ok: n - failed,
    /** Migrations the embedded model counted (0 on VPP: not observable). */
    counted: c.workers.reduce((a, x) => a + x.migrationsOk, 0),
    failed,
    seconds,
    ownerTripsPerSec: (own.trips - trips0) / seconds,
    loadTrips: trips,
    callUs: { p50: median(callNs) / 1e3, p99: pct(callNs, 99) / 1e3 },
    rpcUs: { p50: median(rpcNs) / 1e3, p99: pct(rpcNs, 99) / 1e3 },
    /** The RPC latencies as an HDR histogram (ns, compressed base64). */
    rpcLatency: histogramOfNs(rpcNs),
    /** The touches (the migrating calls) as an HDR histogram: the figure on VPP. */
    callLatency: histogramOfNs(callNs),
    ...(values.histogram ? { rpcNs, callNs } : {}),
  };
  console.error(
    `migration (${backend}, thread mode, busy owner + ${loadThreads} load threads): ${res.ok} migrated, ${res.failed} failed in ${seconds.toFixed(2)} s; owner echo ${res.ownerTripsPerSec.toFixed(0)} trips/s meanwhile; call p50 ${res.callUs.p50.toFixed(1)} us p99 ${res.callUs.p99.toFixed(1)} us; RPC p50 ${res.rpcUs.p50.toFixed(1)} us p99 ${res.rpcUs.p99.toFixed(1)} us`,
  );
  if (values.json) writeFileSync(values.json, JSON.stringify(res, null, 2));
  console.log(JSON.stringify(res));
  await stopApp();
  process.exit(0);
}
