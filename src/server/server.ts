/**
 * The echo server: sets the app up in the chosen backend and mode, starts
 * the workers, prints the ready line, and on stop gathers the counters.
 *
 *   single  - main thread: app, one listener. N Bun Workers share VCL
 *             worker 0; each adds the listener to its own epoll set.
 *   thread  - main thread: app (VCL worker 0) creates, per worker, an empty
 *             epoll set and a listener session (SO_REUSEPORT; on the kernel
 *             backend the first one bound first, see below). Each
 *             Bun Worker touches them first: both migrate by RPC, served by
 *             the main thread while it polls during start-up. Every worker
 *             then listens on the shared port; the kernel spreads accepts.
 *   process - main thread: app, one listener, then N forked native echo
 *             workers that share it (listener started per child on epoll
 *             ADD). The parent polls so SIGCHLD cleanups run.
 */
import { raw, check, countersSnapshot, drainRpcLatencies, forkEchoWorkers, childExits, type ChildExit } from "../native/ffi.ts";
import { appInit, listenTcpAnyPort, localEndpoint, encodeEndpoint, Attr, type BackendName, type ModeName, PROTO_TCP } from "../native/vls.ts";
import { Control, CONTROL_BYTES, type EchoCounters, type EchoWorkerInit, type FromEchoWorker } from "./protocol.ts";
import { histogramOfNs, type LatencyUs } from "../common/histogram.ts";
import { CLAIM_SLOTS } from "./vpp-single.ts";
import { alive } from "../common/proc.ts";

/** Server configuration (CLI flags, validated). */
export interface ServerConfig {
  backend: BackendName;
  mode: ModeName;
  workers: number;
  host: string;
  port: number;
  maxConnections: number;
  appOptions?: string;
  /**
   * vpp: work around VPP's known VLS defects (default true). false calls
   * VLS as a plain application would, to show its raw behaviour.
   */
  vppWorkarounds?: boolean;
}

/** Everything the server reports when it stops. */
export interface ServerReport {
  workers: EchoCounters[];
  native: unknown;
  /** Migration RPC latencies (ns) as recorded by the core. */
  rpcLatencyNs: number[];
  /** The same in an HDR histogram: summary (µs) and compressed base64 (ns). */
  rpcLatency: { count: number; us: LatencyUs; histogram: string };
  childPids: number[];
}

/** A running server. */
export interface RunningServer {
  host: string;
  port: number;
  echo: "js" | "native";
  /** Resolves with the reason when the server can no longer serve
   * (process mode: every forked worker died; workers are not restarted). */
  failed: Promise<string>;
  stop(): Promise<ServerReport>;
}

/** One line for a dead forked worker. */
function describeExit(e: ChildExit): string {
  return e.signal !== null ? `killed by signal ${e.signal}` : `exited with status ${e.code}`;
}

const START_TIMEOUT_MS = 10_000;

/** Starts the server; resolves once it accepts connections. */
export async function startServer(cfg: ServerConfig): Promise<RunningServer> {
  appInit(cfg.backend, cfg.mode, cfg.appOptions ?? "");
  if (cfg.mode === "process") return startProcessMode(cfg);
  return startThreadWorkers(cfg);
}

const ignoreSigchld = () => {};

function startProcessMode(cfg: ServerConfig): RunningServer {
  const { handle: listener, port } = listenTcpAnyPort({ host: cfg.host, port: cfg.port }, cfg.backend);
  // VPP 24.06's VLS takes SIGCHLD over at every fork while the handler it
  // replaced is the default one, so from the second fork on it chains to
  // itself and the parent's first SIGCHLD (a worker that dies) recurses
  // until the stack overflows (fixed in VPP in 2025). A real handler
  // installed before the first fork is what VLS records instead; this one
  // does nothing (children are reaped at stop, vlsb_reap_children).
  if (cfg.backend === "vpp" && cfg.vppWorkarounds !== false) process.on("SIGCHLD", ignoreSigchld);
  const pids = forkEchoWorkers(listener, cfg.workers);
  // The parent keeps polling an empty epoll set: that is where VLS drains
  // the SIGCHLD cleanup queue.
  const ep = check("vlsb_epoll_create", raw.vlsb_epoll_create());
  const evs = new Uint32Array(new ArrayBuffer(64));
  // Each tick also reaps dead workers: each is reported at once, and with
  // none left the server fails (the kernel would go on completing
  // connections nobody serves).
  const live = new Set(pids);
  let fail: (why: string) => void = () => {};
  const failed = new Promise<string>((r) => (fail = r));
  const timer = setInterval(() => {
    raw.vlsb_epoll_wait(ep, evs, 8, 0);
    for (const e of childExits()) {
      if (!live.delete(e.pid)) continue;
      process.stderr.write(`server: worker pid ${e.pid} ${describeExit(e)}; ${live.size} of ${pids.length} left\n`);
      if (live.size === 0) fail(`every forked worker is dead (workers are not restarted)`);
    }
  }, 100);
  return {
    host: cfg.host,
    port,
    echo: "native",
    failed,
    async stop() {
      clearInterval(timer);
      // Only real child pids: kill(0) or kill(-n) would signal a whole
      // process group (the server's own, and its neighbours).
      for (const pid of pids) {
        if (pid <= 0) continue;
        try {
          process.kill(pid, "SIGTERM");
        } catch {}
      }
      const deadline = Date.now() + 1500;
      while (Date.now() < deadline && pids.some(alive)) await Bun.sleep(10);
      for (const pid of pids) if (pid > 0 && alive(pid)) process.kill(pid, "SIGKILL");
      raw.vlsb_reap_children();
      const native = countersSnapshot();
      raw.vlsb_close(ep);
      // The children are gone and left through VPP's exit path (vlsb_app_fini
      // in a forked child unshares their sessions), so the parent's close of
      // the listener they shared is safe on VPP too.
      raw.vlsb_close(listener);
      raw.vlsb_app_fini();
      return { workers: [], native, rpcLatencyNs: [], rpcLatency: histogramOfNs([]), childPids: pids };
    },
  };
}


async function startThreadWorkers(cfg: ServerConfig): Promise<RunningServer> {
  const control = new SharedArrayBuffer(CONTROL_BYTES);
  const ctl = new Int32Array(control);
  const inits: EchoWorkerInit[] = [];
  let port = cfg.port;
  let shared = -1;
  const singleEpolls: number[] = [];
  const sharedEventQueue = cfg.backend === "vpp" && cfg.mode === "single" && cfg.workers > 1;
  // The claims serve only VppSingleEchoLoop (one shared event queue); the
  // plain echo loop gets a one-slot buffer it never reads.
  const claims = new SharedArrayBuffer(sharedEventQueue ? 4 * CLAIM_SLOTS : 4);
  if (cfg.mode === "single") {
    ({ handle: shared, port } = listenTcpAnyPort({ host: cfg.host, port: cfg.port }, cfg.backend));
    for (let i = 0; i < cfg.workers; i++) singleEpolls.push(check("vlsb_epoll_create", raw.vlsb_epoll_create()));
  }
  for (let i = 0; i < cfg.workers; i++) {
    // Single mode: every worker may accept on the shared listener, because
    // on VPP's single-worker VLS an event of any session, the listener's
    // included, goes to whichever thread drains the one message queue first,
    // not to the thread whose epoll set holds the session.
    let listener = shared;
    let epolls = singleEpolls;
    let bound = false;
    if (cfg.mode === "thread") {
      // Created here, used there: both migrate on the worker's first call.
      epolls = [check("vlsb_epoll_create", raw.vlsb_epoll_create())];
      listener = check("vlsb_create", raw.vlsb_create(PROTO_TCP, 1));
      if (i === 0 && cfg.backend === "kernel") {
        // The first listener binds without SO_REUSEPORT, so a port another
        // server holds (SO_REUSEPORT or not) is EADDRINUSE; only then is it
        // made shareable, for this server's other workers. A second server
        // does the same and fails at its first bind: it never joins the group.
        check("vlsb_bind", raw.vlsb_bind(listener, encodeEndpoint({ host: cfg.host, port: cfg.port })));
        check("vlsb_attr", raw.vlsb_attr(listener, Attr.SET_REUSEPORT, 1, null));
        port = localEndpoint(listener).port;
        bound = true;
      } else {
        check("vlsb_attr", raw.vlsb_attr(listener, Attr.SET_REUSEPORT, 1, null));
      }
      if (i === 0 && port === 0 && cfg.backend !== "kernel") {
        // VPP picks no port for us: choose one; a clash fails the worker's listen.
        port = 20000 + Math.floor(Math.random() * 40000);
      }
    }
    inits.push({
      id: i, backend: cfg.backend, mode: cfg.mode as "single" | "thread", listener, pollsListener: cfg.mode === "thread" || i === 0, epolls, bindHost: cfg.host, bindPort: port,
      bound, control, claims, maxConnections: cfg.maxConnections,
      acceptFromBacklogOnly: sharedEventQueue && cfg.vppWorkarounds !== false,
      sharedEventQueue,
    });
  }
  for (const init of inits) init.bindPort = port;

  const workers: Worker[] = [];
  const stopped = new Map<number, EchoCounters>();
  const errors: string[] = [];
  let onStopped: (() => void) | null = null;
  for (const init of inits) {
    const w = new Worker(new URL("./echo-worker.ts", import.meta.url).href, { workerData: init } as WorkerOptions);
    w.onmessage = (ev: MessageEvent<FromEchoWorker>) => {
      const m = ev.data;
      if (m.type === "stopped") {
        stopped.set(m.counters.id, m.counters);
        if (stopped.size === workers.length) onStopped?.();
      } else if (m.type === "error") errors.push(`worker ${m.id}: ${m.message}`);
    };
    workers.push(w);
  }

  // Serve the workers' clone RPCs while they start: the main thread is the
  // owner of what they migrate, and an owner serves RPCs only when it polls.
  const mainEp = check("vlsb_epoll_create", raw.vlsb_epoll_create());
  const evs = new Uint32Array(new ArrayBuffer(64));
  const deadline = Date.now() + START_TIMEOUT_MS;
  while (Atomics.load(ctl, Control.READY) + Atomics.load(ctl, Control.FAILED) < cfg.workers) {
    if (Date.now() > deadline) throw new Error(`workers did not start within ${START_TIMEOUT_MS} ms`);
    raw.vlsb_epoll_wait(mainEp, evs, 8, 2);
    await Bun.sleep(0);
  }
  await Bun.sleep(0);
  if (Atomics.load(ctl, Control.FAILED) > 0) {
    await Bun.sleep(20);
    Atomics.store(ctl, Control.STOP, 1);
    throw new Error(errors[0] ?? "a worker failed to start");
  }
  // Thread mode: keep serving late RPCs (cleanups of migrated sessions).
  // Single mode: the main thread leaves VLS, so a one-worker server is a
  // one-thread VLS process and takes no lock at all (as in the seeds).
  const timer = cfg.mode === "thread" ? setInterval(() => raw.vlsb_epoll_wait(mainEp, evs, 8, 0), 50) : null;
  if (cfg.mode === "single") raw.vlsb_worker_unregister();

  return {
    host: cfg.host,
    port,
    echo: "js",
    failed: new Promise<string>(() => {}),
    async stop() {
      Atomics.store(ctl, Control.STOP, 1);
      if (stopped.size < workers.length) await Promise.race([new Promise<void>((r) => (onStopped = r)), Bun.sleep(1500)]);
      if (timer) clearInterval(timer);
      for (const w of workers) w.terminate();
      raw.vlsb_epoll_wait(mainEp, evs, 8, 0);
      const native = countersSnapshot();
      const rpcLatencyNs = [...drainRpcLatencies()];
      raw.vlsb_close(mainEp);
      for (const ep of singleEpolls) raw.vlsb_close(ep);
      if (shared >= 0) raw.vlsb_close(shared);
      raw.vlsb_app_fini();
      const list = inits.map((i) => stopped.get(i.id) ?? { id: i.id, vclWorker: -1, accepted: 0, adopted: 0, refused: 0, messages: 0, bytesIn: 0, bytesOut: 0, errors: 0, resets: 0, closed: 0, ffiCalls: 0, sweepFound: 0 });
      return { workers: list, native, rpcLatencyNs, rpcLatency: histogramOfNs(rpcLatencyNs), childPids: [] };
    },
  };
}
