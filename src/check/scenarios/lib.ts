/**
 * Shared by the conformance scenarios (each run as its own Bun process by
 * ../run-scenario.ts, and by the Bun Workers they start): argv, the result
 * line, stage lines, workers that report a result or an error, waits that
 * keep serving VLS RPCs, transfers over non-blocking sessions, counters.
 *
 * A scenario file is both the main script and its worker script: the main
 * thread calls {@link scenario}, a Worker started on the same file calls
 * {@link workerMain}.
 */
import { workerData, parentPort, threadId, isMainThread } from "node:worker_threads";
import { raw, check, countersSnapshot } from "../../native/ffi.ts";
import { Errno, errnoName } from "../../native/errno.ts";
import { Backend, Mode, encodeEndpoint, O_NONBLOCK, EPOLLOUT, EPOLL_CTL_ADD, EPOLL_CTL_DEL, type BackendName, type ModeName, type Endpoint, PROTO_TCP } from "../../native/vls.ts";
import { echoOnce } from "./echo-client.ts";
import { stopApp } from "./app.ts";

export { procState, alive } from "../../common/proc.ts";
export { fdCount, socketCount, stopChildren, killAndAwaitSigchld } from "./processes.ts";

export { raw, check, Errno, errnoName, encodeEndpoint };

export interface ScenarioArgs {
  backend: BackendName;
  mode: ModeName;
  /** argv after backend and mode. */
  extra: string[];
}

/** The scenario's argv: BACKEND MODE [EXTRA...]. */
export function scenarioArgs(): ScenarioArgs {
  const [backend, mode, ...extra] = process.argv.slice(2);
  if (!(backend in Backend)) throw new Error(`unknown backend ${backend}`);
  if (!(mode in Mode)) throw new Error(`unknown mode ${mode}`);
  return { backend: backend as BackendName, mode: mode as ModeName, extra };
}

/** A progress line on stderr: the last one names where a hung scenario was. */
export function stage(what: string): void {
  process.stderr.write(`stage: ${isMainThread ? "main" : `worker ${threadId}`}: ${what}\n`);
}

/**
 * Runs the main thread of a scenario: prints `body`'s result as one JSON
 * line and exits 0; an exception goes to stderr with exit code 1. Waits of
 * every thread are stopped first, so no worker sits in C at exit; the
 * scenario's VPP and peers (app.ts) are stopped either way.
 */
export function scenario(body: (args: ScenarioArgs) => Promise<object>): void {
  (async () => {
    let out: string;
    try {
      out = JSON.stringify(await body(scenarioArgs()));
    } catch (e) {
      process.stderr.write(`scenario failed: ${(e as Error).stack ?? e}\n`);
      raw.vlsb_stop_waits(1);
      await stopApp().catch(() => {});
      process.exit(1);
    }
    raw.vlsb_stop_waits(1);
    await stopApp();
    process.stdout.write(out + "\n", () => process.exit(0));
  })();
}

/** The worker side: runs `body(workerData)`, posts its result or its error. */
export function workerMain<D, R>(body: (data: D) => Promise<R> | R): void {
  (async () => {
    try {
      const result = await body(workerData as D);
      parentPort!.postMessage({ type: "result", result });
    } catch (e) {
      parentPort!.postMessage({ type: "error", message: `worker ${threadId}: ${(e as Error).stack ?? e}` });
    }
  })();
}

/** A started worker and its result (rejects on its error or early exit). */
export interface StartedWorker<R> {
  worker: Worker;
  result: Promise<R>;
}

/** Starts a Worker on `file` (usually import.meta.url) with `data`. */
export function startWorker<R>(file: string, data: unknown): StartedWorker<R> {
  const worker = new Worker(file, { workerData: data } as WorkerOptions);
  const result = new Promise<R>((resolve, reject) => {
    let settled = false;
    worker.addEventListener("message", (ev: MessageEvent) => {
      const m = ev.data as { type: string; result?: R; message?: string };
      settled = true;
      if (m.type === "result") resolve(m.result as R);
      else reject(new Error(m.message));
    });
    worker.addEventListener("error", (ev: Event) => {
      settled = true;
      reject(new Error(`worker error: ${(ev as ErrorEvent).message ?? ev}`));
    });
    worker.addEventListener("close", () => {
      if (!settled) reject(new Error("worker exited without a result"));
    });
  });
  return { worker, result };
}

/** Milliseconds, monotonic. */
export const nowMs = () => performance.now();

/**
 * A thread's own epoll set used only to wait: every vlsb_epoll_wait on it
 * drains the thread's message queue, i.e. serves the clone RPCs other
 * threads send it (an owner serves RPCs only while it waits in VLS).
 */
export class Poller {
  readonly ep: number;
  private evs = new Uint32Array(new ArrayBuffer(8 * 16));
  constructor() {
    this.ep = check("vlsb_epoll_create", raw.vlsb_epoll_create());
  }
  /** One wait of at most ms (serves RPCs). */
  poll(ms: number): number {
    return raw.vlsb_epoll_wait(this.ep, this.evs, 16, ms);
  }
  /** Polls (1 ms waits) until cond() holds; throws after timeoutMs naming `what`. Blocks the JS thread. */
  pollUntil(cond: () => boolean, timeoutMs: number, what: string): void {
    const end = nowMs() + timeoutMs;
    while (!cond()) {
      if (nowMs() > end) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
      this.poll(1);
    }
  }
  /** As pollUntil, but lets the JS event loop turn between waits (worker messages, sockets). */
  async pollUntilAsync(cond: () => boolean, timeoutMs: number, what: string, reject?: Promise<unknown>[]): Promise<void> {
    const end = nowMs() + timeoutMs;
    let failure: unknown = null;
    for (const p of reject ?? []) p.catch((e) => (failure ??= e));
    while (!cond()) {
      if (failure) throw failure;
      if (nowMs() > end) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
      this.poll(2);
      await Bun.sleep(0);
    }
  }
  close(): void {
    raw.vlsb_close(this.ep);
  }
}

/** Waits (without VLS) until cond() holds, in 1 ms Atomics sleeps. */
export function spinUntil(cond: () => boolean, timeoutMs: number, what: string): void {
  const nap = new Int32Array(new SharedArrayBuffer(4));
  const end = nowMs() + timeoutMs;
  while (!cond()) {
    if (nowMs() > end) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    Atomics.wait(nap, 0, 0, 1);
  }
}

/** Random bytes in an ArrayBuffer-backed array (safe to pass to C). */
export function randomPayload(n: number): Uint8Array {
  const out = new Uint8Array(new ArrayBuffer(n));
  for (let off = 0; off < n; off += 65536) crypto.getRandomValues(out.subarray(off, Math.min(n, off + 65536)));
  return out;
}

export function equalBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** Accepts one connection on a non-blocking listener within timeoutMs (polling `poller` meanwhile, if given). */
export function acceptWithin(listener: number, timeoutMs: number, poller?: Poller): number {
  const end = nowMs() + timeoutMs;
  for (;;) {
    const h = raw.vlsb_accept(listener, null, O_NONBLOCK);
    if (h >= 0) return h;
    if (h !== -Errno.EAGAIN) throw new Error(`vlsb_accept: ${errnoName(-h)}`);
    if (nowMs() > end) throw new Error(`no connection accepted within ${timeoutMs} ms`);
    if (poller) poller.poll(1);
    else Bun.sleepSync(1);
  }
}

/**
 * Finishes a non-blocking connect of client `c` to this app's own
 * `listener`: accepts the session for it and waits until `c` is writable
 * (EPOLLOUT). Returns the accepted session, non-blocking. (A blocking
 * connect to a listener of the same app hangs on VPP: the thread that would
 * accept is the one waiting.)
 */
export function acceptAndFinish(c: number, listener: number, timeoutMs = 3000): number {
  const poller = new Poller();
  let s: number;
  try {
    s = acceptWithin(listener, timeoutMs, poller);
  } finally {
    poller.close();
  }
  waitWritable(c, timeoutMs);
  return s;
}

/** Waits until session `c` is writable (EPOLLOUT: its connect finished), in an epoll set of its own. */
function waitWritable(c: number, timeoutMs: number): void {
  const ep = check("vlsb_epoll_create", raw.vlsb_epoll_create());
  try {
    check("vlsb_epoll_ctl", raw.vlsb_epoll_ctl(ep, EPOLL_CTL_ADD, c, EPOLLOUT, 0));
    const evs = new Uint32Array(new ArrayBuffer(8 * 4));
    const end = nowMs() + timeoutMs;
    while (raw.vlsb_epoll_wait(ep, evs, 4, 10) <= 0) if (nowMs() > end) throw new Error(`connect not finished within ${timeoutMs} ms`);
    check("vlsb_epoll_ctl", raw.vlsb_epoll_ctl(ep, EPOLL_CTL_DEL, c, 0, 0));
  } finally {
    raw.vlsb_close(ep);
  }
}

/**
 * Starts a non-blocking connect of `c` to the loopback `port` of this
 * app's own listener: 0 or -EINPROGRESS, else throws. On VPP the connect
 * goes to the relay app (app.ts: initApp with selfConnect); this waits
 * until that connect is done and sends the relay the port (2 bytes), so
 * the relay's connect to `port` is under way when this returns, as a
 * direct non-blocking connect would be.
 */
export function connectNonBlocking(c: number, port: number): number {
  const rv = connectOrCode(c, port);
  if (rv !== 0 && rv !== -Errno.EINPROGRESS) throw new Error(`vlsb_connect: ${errnoName(-rv)}`);
  return rv;
}

/** As {@link connectNonBlocking}, but a failed connect returns its code instead of throwing. */
export function connectOrCode(c: number, port: number): number {
  const relay = Number(process.env.VLSB_TEST_RELAY_PORT ?? 0);
  const rv = raw.vlsb_connect(c, encodeEndpoint(loopback(relay || port)));
  if (relay && (rv === 0 || rv === -Errno.EINPROGRESS)) sendRelayHeader(c, port, 3000);
  return rv;
}

/** Waits until `c` (connected to the relay) is writable, then sends it the target port. */
function sendRelayHeader(c: number, port: number, timeoutMs: number): void {
  waitWritable(c, timeoutMs);
  const hdr = new Uint8Array(new ArrayBuffer(2));
  hdr[0] = port >> 8;
  hdr[1] = port & 0xff;
  const end = nowMs() + timeoutMs;
  for (let sent = 0; sent < 2; ) {
    const w = raw.vlsb_write(c, hdr.subarray(sent), 2 - sent);
    if (w > 0) sent += w;
    else if (w !== -Errno.EAGAIN) throw new Error(`relay header: vlsb_write: ${errnoName(-w)}`);
    else if (nowMs() > end) throw new Error(`relay header not sent within ${timeoutMs} ms`);
  }
}

/** A connected pair on one thread: a non-blocking client connected to
 * `port` of this app's own `listener`, and the session accepted for it. */
export function connectedPair(listener: number, port: number, timeoutMs = 3000): { c: number; s: number } {
  const c = check("vlsb_create", raw.vlsb_create(PROTO_TCP, 1));
  connectNonBlocking(c, port);
  return { c, s: acceptAndFinish(c, listener, timeoutMs) };
}

/**
 * Sends `payload` from session `from` to session `to` (both non-blocking,
 * both served by this thread): writes what fits, reads what came, until all
 * of it arrived. Returns the bytes received.
 */
export function transfer(from: number, to: number, payload: Uint8Array, timeoutMs: number): Uint8Array {
  const got = new Uint8Array(new ArrayBuffer(payload.length));
  const buf = new Uint8Array(new ArrayBuffer(65536));
  let sent = 0;
  let recvd = 0;
  const end = nowMs() + timeoutMs;
  while (recvd < payload.length) {
    if (nowMs() > end) throw new Error(`transfer: ${sent} B sent, ${recvd}/${payload.length} B received after ${timeoutMs} ms`);
    let progress = false;
    if (sent < payload.length) {
      const chunk = payload.subarray(sent, Math.min(payload.length, sent + 65536));
      const w = raw.vlsb_write(from, chunk, chunk.length);
      if (w > 0) {
        sent += w;
        progress = true;
      } else if (w !== -Errno.EAGAIN) throw new Error(`vlsb_write: ${errnoName(-w)}`);
    }
    const r = raw.vlsb_read(to, buf, buf.length);
    if (r > 0) {
      if (recvd + r > got.length) throw new Error(`transfer: received more than was sent`);
      got.set(buf.subarray(0, r), recvd);
      recvd += r;
      progress = true;
    } else if (r === 0) throw new Error(`transfer: peer closed after ${recvd} B`);
    else if (r !== -Errno.EAGAIN) throw new Error(`vlsb_read: ${errnoName(-r)}`);
    if (!progress) Bun.sleepSync(0);
  }
  return got;
}

/** Native counters, as vlsb_counters_json writes them. */
export interface WorkerCounters {
  index: number;
  pid: number;
  accepts: number;
  errors: number;
  migrationsOk: number;
  migrationsFailed: number;
  migrationsTimedOut: number;
  rpcsSent: number;
  rpcsServed: number;
  cleanupsSent: number;
  listenerStarts: number;
  epollWaits: number;
}
export interface Counters {
  workers: WorkerCounters[];
  locks: Record<string, { acquired: number; contended: number }>;
  childCleanups: number;
  forks: number;
}
export const counters = () => countersSnapshot() as Counters;
/** Counters of VCL worker `index` (zeros when it is not listed). */
export function workerCounters(c: Counters, index: number): WorkerCounters {
  return (
    c.workers.find((w) => w.index === index) ?? {
      index, pid: 0, accepts: 0, errors: 0, migrationsOk: 0, migrationsFailed: 0, migrationsTimedOut: 0,
      rpcsSent: 0, rpcsServed: 0, cleanupsSent: 0, listenerStarts: 0, epollWaits: 0,
    }
  );
}
/** Sum of a counter over every worker listed. */
export const sumOf = (c: Counters, k: keyof WorkerCounters) => c.workers.reduce((a, w) => a + (w[k] as number), 0);

export const loopback = (port: number): Endpoint => ({ host: "127.0.0.1", port });

/** One verified echo of a fresh random payload over a kernel socket;
 * resolves true when every byte came back. */
export async function echoVerified(port: number, size: number): Promise<boolean> {
  const p = randomPayload(size);
  try {
    return (await echoOnce(port, p, 10_000)).equals(Buffer.from(p.buffer, p.byteOffset, p.byteLength));
  } catch {
    return false;
  }
}


/**
 * Polls epoll set `ep` (at most `ms`) until `done(accepted)`; on each event
 * tagged `tag` accepts every pending connection of listener `l` and closes
 * it. Resolves to the listener events seen and the connections accepted.
 */
export async function acceptAndCloseUntil(ep: number, evs: Uint32Array, l: number, tag: number, done: (accepted: number) => boolean, ms: number): Promise<{ events: number; accepted: number }> {
  let events = 0, accepted = 0;
  const t0 = nowMs();
  while (!done(accepted) && nowMs() - t0 < ms) {
    const n = raw.vlsb_epoll_wait(ep, evs, evs.length >> 1, 0);
    for (let k = 0; k < n; k++) {
      if (evs[2 * k + 1] !== tag) continue;
      events++;
      for (;;) {
        const h = raw.vlsb_accept(l, null, O_NONBLOCK);
        if (h < 0) break;
        accepted++;
        raw.vlsb_close(h);
      }
    }
    await Bun.sleep(1);
  }
  return { events, accepted };
}
