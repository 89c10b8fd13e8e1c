/**
 * Behaviour 3 (thread mode): an empty epoll set created on the main thread
 * and used in a Worker migrates there (one clone RPC, served while the main
 * thread polls) and works: the worker adds its own listener and connection
 * and gets their events. A non-empty set of the main thread does not
 * migrate (-EBADFD) and still works for the main thread afterwards.
 *
 *   bun 03-migrate-epoll.ts BACKEND MODE
 */
import { isMainThread } from "node:worker_threads";
import {
  scenario, workerMain, startWorker, stage, raw, check, Poller, acceptAndFinish, connectNonBlocking, counters, workerCounters,
  loopback,
} from "./lib.ts";
import { listenTcpAnyPort, EPOLLIN, EPOLL_CTL_ADD, type BackendName, PROTO_TCP } from "../../native/vls.ts";
import { initApp } from "./app.ts";

const LISTENER = 7, CONN = 8;
interface WData {
  backend: BackendName;
  emptySet: number;
  fullSet: number;
  ctl: SharedArrayBuffer;
}

function worker(d: WData) {
  const ctl = new Int32Array(d.ctl);
  try {
    const wrk = check("vlsb_worker_register", raw.vlsb_worker_register());
    const evs = new Uint32Array(new ArrayBuffer(8 * 8));
    const { handle: l, port } = listenTcpAnyPort(loopback(0), d.backend);
    stage("add own listener to the main thread's empty set (migrates it)");
    const addListener = raw.vlsb_epoll_ctl(d.emptySet, EPOLL_CTL_ADD, l, EPOLLIN, LISTENER);
    // Non-blocking: on VPP a blocking connect to one's own listener hangs.
    const c = check("vlsb_create", raw.vlsb_create(PROTO_TCP, 1));
    connectNonBlocking(c, port);
    stage("wait for the listener's event");
    const n1 = raw.vlsb_epoll_wait(d.emptySet, evs, 8, 3000);
    const ev1 = n1 > 0 ? { events: evs[0], data: evs[1] } : null;
    const s = acceptAndFinish(c, l, 2000);
    const addConn = raw.vlsb_epoll_ctl(d.emptySet, EPOLL_CTL_ADD, s, EPOLLIN, CONN);
    const ping = new Uint8Array(new ArrayBuffer(4));
    ping.set([112, 105, 110, 103]);
    const wrote = raw.vlsb_write(c, ping, 4);
    stage("wait for the connection's event");
    let ev2: { events: number; data: number } | null = null;
    for (let i = 0; i < 10 && !ev2; i++) {
      const n = raw.vlsb_epoll_wait(d.emptySet, evs, 8, 300);
      for (let k = 0; k < n; k++) if (evs[2 * k + 1] === CONN) ev2 = { events: evs[2 * k], data: CONN };
    }
    const buf = new Uint8Array(new ArrayBuffer(16));
    const nread = raw.vlsb_read(s, buf, 16);
    const text = new TextDecoder().decode(buf.subarray(0, Math.max(0, nread)));
    const mid = workerCounters(counters(), wrk);
    stage("touch the main thread's non-empty set");
    const waitFull = raw.vlsb_epoll_wait(d.fullSet, evs, 8, 0);
    const ctlFull = raw.vlsb_epoll_ctl(d.fullSet, EPOLL_CTL_ADD, c, EPOLLIN, 9);
    const end = workerCounters(counters(), wrk);
    for (const h of [s, c, l, d.emptySet]) raw.vlsb_close(h);
    return {
      wrk, addListener, n1, ev1, addConn, wrote, ev2, nread, text, waitFull, ctlFull,
      migrationsOkAfterUse: mid.migrationsOk, migrationsFailedAfterUse: mid.migrationsFailed,
      migrationsOk: end.migrationsOk, migrationsFailed: end.migrationsFailed, migrationsTimedOut: end.migrationsTimedOut, rpcsSent: end.rpcsSent,
    };
  } finally {
    Atomics.store(ctl, 0, 1);
  }
}

if (!isMainThread) workerMain(worker);
else
  scenario(async ({ backend, mode }) => {
    await initApp(backend, mode, "", { selfConnect: true });
    const poller = new Poller();
    const emptySet = check("vlsb_epoll_create", raw.vlsb_epoll_create());
    const fullSet = check("vlsb_epoll_create", raw.vlsb_epoll_create());
    const { handle: mainListener, port } = listenTcpAnyPort(loopback(0), backend);
    check("vlsb_epoll_ctl", raw.vlsb_epoll_ctl(fullSet, EPOLL_CTL_ADD, mainListener, EPOLLIN, 42));
    const ctl = new SharedArrayBuffer(4);
    stage("start the worker, poll while it works");
    const w = startWorker<any>(import.meta.url, { backend, emptySet, fullSet, ctl } satisfies WData);
    await poller.pollUntilAsync(() => Atomics.load(new Int32Array(ctl), 0) === 1, 20_000, "the worker", [w.result]);
    const wr = await w.result;
    stage("the non-empty set still works here");
    const c = check("vlsb_create", raw.vlsb_create(PROTO_TCP, 1));
    const connect = connectNonBlocking(c, port);
    const evs = new Uint32Array(new ArrayBuffer(64));
    const nFull = raw.vlsb_epoll_wait(fullSet, evs, 8, 3000);
    const fullEvent = nFull > 0 ? { events: evs[0], data: evs[1] } : null;
    const mainRpcsServed = workerCounters(counters(), raw.vlsb_worker_index()).rpcsServed;
    return { worker: wr, connect, nFull, fullEvent, mainRpcsServed };
  });
