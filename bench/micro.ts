/**
 * `bun run bench:micro` - tinybench micro-benchmarks of the ABI, one thread,
 * single mode, kernel backend: the cost of one FFI call per ABI function,
 * and of the VLS layer with its one-thread lock check against a build with
 * locking compiled out (VLSB_NO_LOCKS). The two builds run in child
 * processes, alternating A B A B for --rounds rounds; medians and the ratio
 * are printed (target: within 5%). Then the lock paths per mode with 1, 2
 * and 4 threads: the measured thread calls vlsb_attr on its own session
 * while the other threads do the same on theirs.
 *
 *   bun bench/micro.ts [--rounds 5] [--time-ms 300] [--json FILE]
 */
import { Bench } from "tinybench";
import { parseArgs } from "node:util";
import { writeFileSync } from "node:fs";
import { alternate, median, table, runJsonChild } from "./lib.ts";

const { values, positionals } = parseArgs({ allowPositionals: true, options: { child: { type: "boolean" }, "child-locks": { type: "boolean" }, rounds: { type: "string" }, "time-ms": { type: "string" }, json: { type: "string" } } });
const timeMs = Number(values["time-ms"] ?? 300);

async function child() {
  const { raw, check } = await import("../src/native/ffi.ts");
  const { appInit, listenTcp, localEndpoint, encodeEndpoint, Attr, EPOLLIN, EPOLL_CTL_ADD, O_NONBLOCK } = await import("../src/native/vls.ts");
  appInit("kernel", "single");
  const l = listenTcp({ host: "127.0.0.1", port: 0 });
  const c = check("create", raw.vlsb_create(0, 0));
  check("connect", raw.vlsb_connect(c, encodeEndpoint(localEndpoint(l))));
  let s = -1;
  while (s < 0) s = raw.vlsb_accept(l, null, O_NONBLOCK);
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

/** Instructions per call of the release and nolocks builds, by callgrind;
 * null when valgrind is not installed. */
async function instructionsPerCall(): Promise<{ call: string; vls: number; nolocks: number }[] | null> {
  if (!Bun.which("valgrind")) {
    console.log("\n(valgrind not installed: no instruction counts; apt-get install valgrind)");
    return null;
  }
  const { nativeBuildDir } = await import("../src/native/paths.ts");
  const dirs = { vls: nativeBuildDir.replace(/build[^/]*$/, "build"), nolocks: nativeBuildDir.replace(/build[^/]*$/, "build-nolocks") };
  const count = async (dir: string, call: string, n: number) => {
    const p = Bun.spawn(["valgrind", "--tool=callgrind", "--callgrind-out-file=/dev/null", `${dir}/vlsb-callbench`, call, String(n)], { stdout: "ignore", stderr: "pipe" });
    const err = await new Response(p.stderr).text();
    await p.exited;
    return Number(err.match(/Collected : (\d+)/)?.[1] ?? NaN);
  };
  const out = [];
  for (const call of ["attr", "read", "epoll_wait", "create_close"]) {
    const per = async (dir: string) => ((await count(dir, call, 200_000)) - (await count(dir, call, 100_000))) / 100_000;
    out.push({ call, vls: await per(dirs.vls), nolocks: await per(dirs.nolocks) });
  }
  return out;
}

/** Lock paths: MODE THREADS; the main thread is measured, THREADS-1 Bun
 * Workers load the same paths on their own sessions meanwhile. */
async function childLocks() {
  const [mode, threadsS] = positionals;
  const threads = Number(threadsS);
  const { raw, check, countersSnapshot } = await import("../src/native/ffi.ts");
  const { appInit, Attr } = await import("../src/native/vls.ts");
  appInit("kernel", mode as "single" | "thread");
  const stop = new SharedArrayBuffer(8);
  const flag = new Int32Array(stop);
  const src = `import { raw } from ${JSON.stringify(new URL("../src/native/ffi.ts", import.meta.url).href)};
    import { workerData } from "node:worker_threads";
    const f = new Int32Array(workerData);
    const s = raw.vlsb_create(0, 1);
    Atomics.add(f, 1, 1);
    while (Atomics.load(f, 0) === 0) for (let i = 0; i < 1000; i++) raw.vlsb_attr(s, 2, 0, null);
    raw.vlsb_close(s);`;
  const url = URL.createObjectURL(new Blob([src], { type: "text/javascript" }));
  const ws = Array.from({ length: threads - 1 }, () => new Worker(url, { workerData: stop } as WorkerOptions));
  while (Atomics.load(flag, 1) < threads - 1) await Bun.sleep(5);
  const s = check("create", raw.vlsb_create(0, 1));
  const BATCH = 1000;
  const bench = new Bench({ time: timeMs, warmupTime: 50 });
  bench.add("attr", () => {
    for (let i = 0; i < BATCH; i++) raw.vlsb_attr(s, Attr.GET_FLAGS, 0, null);
  });
  await bench.run();
  Atomics.store(flag, 0, 1);
  for (const w of ws) w.terminate();
  const locks = (countersSnapshot() as { locks: Record<string, { acquired: number; contended: number }> }).locks;
  const r = bench.tasks[0].result as { latency?: { p50?: number; mean: number } };
  console.log(JSON.stringify({ ns: ((r.latency?.p50 ?? r.latency?.mean ?? NaN) * 1e6) / BATCH, locks }));
  process.exit(0);
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
  const instr = await instructionsPerCall();
  if (instr) {
    console.log(`\ninstructions per call (callgrind, vlsb-callbench at 100k and 200k calls, difference / 100k): noise-free, unlike the times above`);
    console.log(table(["call", "vls", "locks compiled out", "ratio"], instr.map((r) => [r.call, r.vls, r.nolocks, (r.vls / r.nolocks).toFixed(3)])));
  }
  const lockRows: (string | number)[][] = [];
  const lockJson: Record<string, number> = {};
  for (const mode of ["single", "thread"])
    for (const threads of [1, 2, 4]) {
      const rs = [];
      for (let r = 0; r < Math.min(rounds, 3); r++) rs.push(await runJsonChild(import.meta.path, ["--child-locks", mode, String(threads), "--time-ms", String(timeMs)]));
      const ns = median(rs.map((x) => x.ns));
      const last = rs[rs.length - 1].locks as Record<string, { acquired: number; contended: number }>;
      const taken = Object.entries(last).filter(([, l]) => l.acquired > 0).map(([k, l]) => `${k} ${((100 * l.contended) / l.acquired).toFixed(1)}%`).join(" ");
      lockRows.push([`${mode}, ${threads} thread${threads > 1 ? "s" : ""}`, ns.toFixed(1), taken || "none"]);
      lockJson[`${mode}-${threads}`] = ns;
    }
  console.log(`\nlock paths: vlsb_attr on the thread's own session while the other threads do the same (median of ${Math.min(rounds, 3)} runs)`);
  console.log(table(["mode, threads", "ns/call", "locks taken (contended share)"], lockRows));
  if (values.json) writeFileSync(values.json, JSON.stringify({ rounds, rows, lockAcquisitions: locks, lockPaths: lockJson }, null, 2));
}

if (values.child) await child();
else if (values["child-locks"]) await childLocks();
else await main();
