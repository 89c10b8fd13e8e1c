/**
 * The cost of one migration (thread mode, kernel backend): the main thread
 * owns N CLOSED sessions and sits in an epoll_wait loop (so it serves clone
 * RPCs as VPP's owner would); a Bun Worker touches each session once. Each
 * touch is one clone-and-share RPC; its latency is timed around the call,
 * and the native RPC latencies (send to answer) are read too.
 *
 *   bun bench/migration.ts [--sessions 2000] [--json FILE]
 * Prints one JSON line last: { callUs: {p50, p99}, rpcUs: {p50, p99}, ok, failed }.
 */
import { parseArgs } from "node:util";
import { isMainThread, workerData, parentPort } from "node:worker_threads";
import { writeFileSync } from "node:fs";
import { raw, check, countersSnapshot, drainRpcLatencies } from "../src/native/ffi.ts";
import { appInit, Attr } from "../src/native/vls.ts";
import { median } from "./lib.ts";

const pct = (xs: number[], p: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))] ?? NaN;
};

if (!isMainThread) {
  const { handles, shared } = workerData as { handles: number[]; shared: SharedArrayBuffer };
  const out = new Float64Array(shared, 8);
  const flag = new Int32Array(shared, 0, 2);
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
  parentPort!.postMessage("done");
} else {
  const { values } = parseArgs({ options: { sessions: { type: "string" }, json: { type: "string" }, histogram: { type: "boolean" } } });
  const n = Number(values.sessions ?? 2000);
  appInit("kernel", "thread");
  const handles = Array.from({ length: n }, () => check("create", raw.vlsb_create(0, 1)));
  const ep = check("epoll", raw.vlsb_epoll_create());
  const shared = new SharedArrayBuffer(8 + 8 * n);
  const flag = new Int32Array(shared, 0, 2);
  const w = new Worker(import.meta.url, { workerData: { handles, shared } } as WorkerOptions);
  const evs = new Uint32Array(new ArrayBuffer(64));
  const deadline = Date.now() + 120_000;
  // The owner's poll loop: RPCs are served inside epoll_wait.
  while (Atomics.load(flag, 0) === 0 && Date.now() < deadline) raw.vlsb_epoll_wait(ep, evs, 8, 5);
  w.terminate();
  const callNs = [...new Float64Array(shared, 8)];
  const rpcNs = [...drainRpcLatencies()];
  const c = countersSnapshot() as { workers: { migrationsOk: number; migrationsFailed: number; migrationsTimedOut: number }[] };
  const ok = c.workers.reduce((a, x) => a + x.migrationsOk, 0);
  const res = {
    sessions: n,
    ok,
    failed: Atomics.load(flag, 1),
    callUs: { p50: median(callNs) / 1e3, p99: pct(callNs, 99) / 1e3 },
    rpcUs: { p50: median(rpcNs) / 1e3, p99: pct(rpcNs, 99) / 1e3 },
    ...(values.histogram ? { rpcNs, callNs } : {}),
  };
  console.error(`migration (thread mode, owner polling with epoll_wait): ${ok} migrated, ${res.failed} failed; call p50 ${res.callUs.p50.toFixed(1)} us p99 ${res.callUs.p99.toFixed(1)} us; RPC p50 ${res.rpcUs.p50.toFixed(1)} us p99 ${res.rpcUs.p99.toFixed(1)} us`);
  if (values.json) writeFileSync(values.json, JSON.stringify(res, null, 2));
  console.log(JSON.stringify(res));
  process.exit(0);
}
