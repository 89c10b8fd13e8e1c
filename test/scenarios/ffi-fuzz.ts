/**
 * FFI fuzz scenario (run as its own process by test/ffi-fuzz.test.ts):
 * T threads each make N random ABI calls with random, stale and foreign
 * handles, wrong sizes and closed sessions. Endpoints are only loopback or
 * invalid (never another address). Sessions stay non-blocking, so no call
 * may wait. Prints one JSON line: calls made, results by errno, results by
 * call and errno (byCall), and whether every result was a count or a
 * negative errno.
 *
 *   bun test/scenarios/ffi-fuzz.ts MODE THREADS CALLS
 */
import { isMainThread, workerData, parentPort } from "node:worker_threads";
import { raw, check } from "../../src/native/ffi.ts";
import { appInit, listenTcp, localEndpoint, encodeEndpoint, EP_SIZE, O_NONBLOCK } from "../../src/native/vls.ts";
import { xorshift32 } from "../../src/common/xorshift.ts";

interface FuzzInit {
  seed: number;
  calls: number;
  port: number;
  shared: SharedArrayBuffer; // Int32Array: handles published by all threads
}

type Counts = Record<string, number>;

function fuzz(init: FuzzInit): { calls: number; results: Counts; byCall: Record<string, Counts>; bad: number[] } {
  let x = init.seed >>> 0 || 1;
  const rnd = (n: number) => {
    x = xorshift32(x);
    return (x >>> 0) % n;
  };
  const pub = new Int32Array(init.shared);
  const own: number[] = [];
  const buf = new Uint8Array(new ArrayBuffer(4096));
  const evs = new Uint32Array(new ArrayBuffer(8 * 16));
  const good = encodeEndpoint({ host: "127.0.0.1", port: init.port });
  const closedPort = encodeEndpoint({ host: "127.0.0.1", port: 1 });
  const badFamily = new Uint8Array(new ArrayBuffer(EP_SIZE));
  badFamily[0] = 5;
  const eps = [good, closedPort, badFamily, new Uint8Array(new ArrayBuffer(EP_SIZE))];
  const results: Counts = {};
  const byCall: Record<string, Counts> = {};
  const bad: number[] = [];
  const pick = () => {
    switch (rnd(6)) {
      case 0:
        return rnd(1 << 31) - (1 << 30); // random, often negative
      case 1:
        return pub[rnd(pub.length)]; // another thread's (foreign or stale)
      default:
        return own.length ? own[rnd(own.length)] : -1;
    }
  };
  for (let i = 0; i < init.calls; i++) {
    let rv: number;
    let call: string;
    const h = pick();
    const len = rnd(10) === 0 ? rnd(20) - 10 : rnd(buf.length + 1); // never past the buffer
    switch (rnd(14)) {
      case 0:
      case 1:
        call = "create";
        rv = raw.vlsb_create(rnd(3), 1);
        if (rv >= 0) {
          own.push(rv);
          pub[rnd(pub.length)] = rv;
        }
        break;
      case 2:
        call = "bind";
        rv = raw.vlsb_bind(h, eps[rnd(eps.length)]);
        break;
      case 3:
        call = "listen";
        rv = raw.vlsb_listen(h, rnd(64) - 8);
        break;
      case 4:
        call = "connect";
        rv = raw.vlsb_connect(h, eps[rnd(2)]);
        break;
      case 5:
        call = "accept";
        rv = raw.vlsb_accept(h, rnd(2) ? buf : null, O_NONBLOCK);
        if (rv >= 0) own.push(rv);
        break;
      case 6:
        call = "read";
        rv = raw.vlsb_read(h, buf, len);
        break;
      case 7:
        call = "write";
        rv = raw.vlsb_write(h, buf, len);
        break;
      case 8:
        call = "close";
        rv = raw.vlsb_close(h);
        break;
      case 9:
        call = "epoll_create";
        rv = raw.vlsb_epoll_create();
        if (rv >= 0) own.push(rv);
        break;
      case 10:
        call = "epoll_ctl";
        rv = raw.vlsb_epoll_ctl(h, rnd(5), pick(), rnd(1 << 14), rnd(1 << 30));
        break;
      case 11:
        call = "epoll_wait";
        rv = raw.vlsb_epoll_wait(h, evs, rnd(18) - 1 > 16 ? 16 : Math.max(-1, rnd(17)), 0);
        break;
      case 12:
        call = "shutdown";
        rv = raw.vlsb_shutdown(h, rnd(5) - 1);
        break;
      default: {
        const op = [0, 2, 4, 6, 19, 27, 99][rnd(7)];
        call = "attr";
        rv = raw.vlsb_attr(h, op, rnd(2), op === 4 || op === 6 ? buf : null);
      }
    }
    if (!Number.isInteger(rv) || rv < -200) bad.push(rv);
    const key = rv >= 0 ? "ok" : String(-rv);
    results[key] = (results[key] ?? 0) + 1;
    const per = (byCall[call] ??= {});
    per[key] = (per[key] ?? 0) + 1;
    if (own.length > 256) raw.vlsb_close(own.splice(rnd(own.length), 1)[0]);
  }
  for (const h of own) raw.vlsb_close(h);
  return { calls: init.calls, results, byCall, bad };
}

if (!isMainThread) {
  parentPort!.postMessage(fuzz(workerData as FuzzInit));
} else {
  const [mode, threadsS, callsS] = process.argv.slice(2);
  const threads = Number(threadsS);
  const calls = Number(callsS);
  appInit("kernel", mode as "single" | "thread", "rpc_timeout_ms=20");
  const l = listenTcp({ host: "127.0.0.1", port: 0 });
  const port = localEndpoint(l).port;
  const shared = new SharedArrayBuffer(4 * 64);
  new Int32Array(shared).fill(-1);
  const t0 = Date.now();
  const outs = await Promise.all(
    Array.from({ length: threads }, (_, i) =>
      new Promise<ReturnType<typeof fuzz>>((resolve, reject) => {
        const w = new Worker(import.meta.url, { workerData: { seed: 1000 + i * 7919, calls, port, shared } } as WorkerOptions);
        w.onmessage = (e) => {
          resolve(e.data);
          w.terminate();
        };
        w.onerror = (e) => reject(new Error(e.message));
      }),
    ),
  );
  check("close", raw.vlsb_close(l));
  const results: Record<string, number> = {};
  const byCall: Record<string, Record<string, number>> = {};
  for (const o of outs) {
    for (const [k, v] of Object.entries(o.results)) results[k] = (results[k] ?? 0) + v;
    for (const [call, counts] of Object.entries(o.byCall)) {
      const per = (byCall[call] ??= {});
      for (const [k, v] of Object.entries(counts)) per[k] = (per[k] ?? 0) + v;
    }
  }
  console.log(JSON.stringify({ mode, threads, calls: outs.reduce((a, o) => a + o.calls, 0), results, byCall, bad: outs.flatMap((o) => o.bad), ms: Date.now() - t0 }));
  process.exit(0);
}
