/**
 * Behaviour 2 (thread mode): a CLOSED session created on thread A (the main
 * thread) is connected and used on thread B (a Worker). A keeps polling its
 * own epoll set meanwhile (that is where it serves B's clone RPC); the two
 * coordinate through a SharedArrayBuffer only.
 *
 * Checks: B's connect migrates the session (one migration, one RPC served
 * by A), data flows intact both ways; afterwards A, reading the same handle,
 * gets its own never-connected clone (-ENOTCONN: migration is a clone, not a
 * move), and B's next use switches back to its clone without a new RPC.
 *
 *   bun 02-migrate-closed.ts BACKEND MODE
 */
import { isMainThread } from "node:worker_threads";
import {
  connectOrCode, scenario, workerMain, startWorker, stage, raw, check, Errno, Poller, spinUntil, acceptAndFinish, transfer, randomPayload,
  equalBytes, counters, workerCounters, sumOf, loopback, nowMs, type Counters,
} from "./lib.ts";
import { listenTcpAnyPort, type BackendName, PROTO_TCP } from "../../native/vls.ts";
import { initApp } from "./app.ts";

const B_DONE = 0, A_CHECKED = 1;
const SIZE = 256 * 1024;

interface BData {
  backend: BackendName;
  session: number;
  ctl: SharedArrayBuffer;
}

function threadB(d: BData) {
  const ctl = new Int32Array(d.ctl);
  const wrk = check("vlsb_worker_register", raw.vlsb_worker_register());
  stage(`B (VCL worker ${wrk}): own listener`);
  const { handle: l, port } = listenTcpAnyPort(loopback(0), d.backend);
  stage("B: connect A's CLOSED session (migrates)");
  const t0 = nowMs();
  const connectRv = connectOrCode(d.session, port);
  const connectMs = Math.round(nowMs() - t0);
  if (connectRv !== 0 && connectRv !== -Errno.EINPROGRESS) return { wrk, connectRv, connectMs };
  const s = acceptAndFinish(d.session, l, 3000);
  stage("B: data both ways");
  const up = randomPayload(SIZE);
  const down = randomPayload(SIZE);
  const upOk = equalBytes(transfer(d.session, s, up, 10_000), up);
  const downOk = equalBytes(transfer(s, d.session, down, 10_000), down);
  const after = workerCounters(counters(), wrk);
  Atomics.store(ctl, B_DONE, 1);
  stage("B: wait for A's read-back");
  spinUntil(() => Atomics.load(ctl, A_CHECKED) === 1, 20_000, "A's read-back");
  // A switched the session back to its own clone; ours is still connected.
  const again = randomPayload(4096);
  const againOk = equalBytes(transfer(d.session, s, again, 5000), again);
  const end = workerCounters(counters(), wrk);
  raw.vlsb_close(s);
  raw.vlsb_close(l);
  return {
    wrk, connectRv, connectMs, upOk, downOk, againOk,
    migrationsOk: after.migrationsOk, migrationsOkAtEnd: end.migrationsOk, rpcsSent: end.rpcsSent,
  };
}

if (!isMainThread) workerMain(threadB);
else
  scenario(async ({ backend, mode }) => {
    await initApp(backend, mode, "", { selfConnect: true });
    const aWrk = raw.vlsb_worker_index();
    const poller = new Poller();
    // CLOSED and non-blocking: B's connect to its own listener must not wait
    // for the accept (on VPP a same-app blocking connect hangs).
    const session = check("vlsb_create", raw.vlsb_create(PROTO_TCP, 1));
    const ctl = new SharedArrayBuffer(8);
    const c32 = new Int32Array(ctl);
    stage("A: start B, poll while it works");
    const b = startWorker<any>(import.meta.url, { backend, session, ctl } satisfies BData);
    await poller.pollUntilAsync(() => Atomics.load(c32, B_DONE) === 1, 20_000, "B to connect and transfer", [b.result]);
    const mid: Counters = counters();
    stage("A: read the handle on A");
    const buf = new Uint8Array(new ArrayBuffer(64));
    const readOnA = raw.vlsb_read(session, buf, 64);
    Atomics.store(c32, A_CHECKED, 1);
    const rb = await b.result;
    const closeOnA = raw.vlsb_close(session);
    poller.close();
    return {
      aWrk, b: rb, readOnA, closeOnA,
      mid: {
        migrationsOk: sumOf(mid, "migrationsOk"), migrationsFailed: sumOf(mid, "migrationsFailed"),
        migrationsTimedOut: sumOf(mid, "migrationsTimedOut"), aRpcsServed: workerCounters(mid, aWrk).rpcsServed,
      },
    };
  });
