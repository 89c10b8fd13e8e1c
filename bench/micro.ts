/**
 * `bun run bench:micro` - tinybench micro-benchmarks of the ABI, one thread,
 * single mode, kernel backend: the cost of one FFI call per ABI function,
 * and of the VLS layer with its one-thread lock check against a build with
 * locking compiled out (VLSB_NO_LOCKS). The two builds run in child
 * processes, alternating A B A B for --rounds rounds; medians and the ratio
 * are printed (target: within 5%).
 *
 *   bun bench/micro.ts [--rounds 5] [--time-ms 300] [--json FILE]
 */
import { Bench } from "tinybench";
import { parseArgs } from "node:util";
import { writeFileSync } from "node:fs";
import { alternate, median, table, runJsonChild } from "./lib.ts";

const { values } = parseArgs({ options: { child: { type: "boolean" }, rounds: { type: "string" }, "time-ms": { type: "string" }, json: { type: "string" } } });
const timeMs = Number(values["time-ms"] ?? 300);

async function child() {
  const { raw, check } = await import("../src/native/ffi.ts");
  const { appInit, listenTcp, localEndpoint, encodeEndpoint, Attr, EPOLLIN, EPOLL_CTL_ADD } = await import("../src/native/vls.ts");
  appInit("kernel", "single");
  const l = listenTcp({ host: "127.0.0.1", port: 0 });
  const c = check("create", raw.vlsb_create(0, 0));
  check("connect", raw.vlsb_connect(c, encodeEndpoint(localEndpoint(l))));
  let s = -1;
  while (s < 0) s = raw.vlsb_accept(l, null, 0o4000);
  const ep = check("epoll", raw.vlsb_epoll_create());
  check("ctl", raw.vlsb_epoll_ctl(ep, EPOLL_CTL_ADD, s, EPOLLIN, 1));
  const buf = new Uint8Array(new ArrayBuffer(64));
  const evs = new Uint32Array(new ArrayBuffer(64));
  const closed = check("create", raw.vlsb_create(0, 1));
  // Each task body runs BATCH calls: tinybench's timer is too coarse for
  // one FFI call, so ns/op = task time / BATCH.
  const BATCH = 1000;
  const loop = (f: () => void) => () => {
    for (let i = 0; i < BATCH; i++) f();
  };
  const bench = new Bench({ time: timeMs, warmupTime: 50 });
  bench
    .add("vlsb_now_ns", loop(() => void raw.vlsb_now_ns()))
    .add("vlsb_attr GET_FLAGS", loop(() => void raw.vlsb_attr(s, Attr.GET_FLAGS, 0, null)))
    .add("vlsb_read (EAGAIN)", loop(() => void raw.vlsb_read(s, buf, 64)))
    .add("vlsb_epoll_wait (0 ready)", loop(() => void raw.vlsb_epoll_wait(ep, evs, 8, 0)))
    .add("vlsb_read bad handle", loop(() => void raw.vlsb_read(-5, buf, 64)))
    .add("vlsb_write+read 64 B", loop(() => {
      raw.vlsb_write(c, buf, 64);
      raw.vlsb_read(s, buf, 64);
    }))
    .add("vlsb_create+close", loop(() => void raw.vlsb_close(raw.vlsb_create(0, 1))))
    .add("vlsb_attr on CLOSED", loop(() => void raw.vlsb_attr(closed, Attr.GET_FLAGS, 0, null)));
  await bench.run();
  const locks = (await import("../src/native/ffi.ts")).countersSnapshot() as { locks: Record<string, { acquired: number }> };
  const anyLock = Object.values(locks.locks).reduce((a, l) => a + l.acquired, 0);
  const res: Record<string, number> = {};
  for (const t of bench.tasks) {
    const r = t.result as { latency?: { p50?: number; mean: number } } | undefined;
    res[t.name] = ((r?.latency?.p50 ?? r?.latency?.mean ?? NaN) * 1e6) / BATCH; // ms per batch -> ns per call
  }
  console.log(JSON.stringify({ ns: res, lockAcquisitions: anyLock }));
}

async function main() {
  const rounds = Number(values.rounds ?? 5);
  const variants = ["release", "nolocks"];
  const { buildNative } = await import("../scripts/build-native.mjs");
  for (const v of variants) buildNative({ variant: v, quiet: true });
  const runs = await alternate(rounds, variants, (v) => runJsonChild(import.meta.path, ["--child", "--time-ms", String(timeMs)], { VLSB_NATIVE_VARIANT: v }));
  const names = Object.keys(runs.get("release")![0].ns);
  const rows = names.map((n) => {
    const a = median(runs.get("release")!.map((r) => r.ns[n]));
    const b = median(runs.get("nolocks")!.map((r) => r.ns[n]));
    return [n, a.toFixed(1), b.toFixed(1), (a / b).toFixed(3)];
  });
  console.log(`micro-benchmarks, kernel backend, single mode, 1 thread; median of ${rounds} alternating rounds (ns/op, tinybench p50)`);
  console.log(table(["call", "vls (ns)", "locks compiled out (ns)", "ratio"], rows));
  const locks = runs.get("release")!.map((r) => r.lockAcquisitions);
  console.log(`VLS lock acquisitions in the one-thread runs: ${locks.join(", ")} (expected 0: one thread takes no lock)`);
  if (values.json) writeFileSync(values.json, JSON.stringify({ rounds, rows, lockAcquisitions: locks }, null, 2));
}

if (values.child) await child();
else await main();
