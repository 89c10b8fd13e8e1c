/**
 * Behaviour 5 (thread mode): two threads clone each other's sessions at the
 * same time, ROUNDS times. Each round each thread creates a CLOSED session,
 * publishes its handle, waits (polling VLS) for the other's, and touches it
 * (vlsb_attr GET_FLAGS migrates it: a clone RPC to the other thread, which
 * is itself inside its own clone RPC). The worker-RPC lock is taken by
 * trylock while draining one's own mq, so each serves the other instead of
 * deadlocking. Both counts must complete, no RPC may time out.
 *
 * A barrier releases both threads right before their cross calls, and
 * neither polls VLS between the barrier and its call: the request of the
 * thread that wins the worker-RPC lock can then only be served by the other
 * thread from inside its own call, while it waits for that lock. So every
 * round takes the deadlock-prone path (a plain lock there would wait out the
 * RPC timeout every round, not a few rounds in a thousand).
 *
 *   bun 05-cross-clone.ts BACKEND MODE [ROUNDS] [strict]
 *
 * strict: a touch that does not answer the flags ends the scenario at once
 * (with the embedded model every touch must succeed; a deadlock waited out
 * by the RPC timeout then fails in one round, not after all of them).
 */
import { isMainThread } from "node:worker_threads";
import { scenario, workerMain, startWorker, stage, raw, check, Poller, counters, workerCounters, sumOf, nowMs } from "./lib.ts";
import { initApp } from "./app.ts";
import { Attr, O_NONBLOCK, PROTO_TCP } from "../../native/vls.ts";

// ctl: [HANDLE+id] published handle, [PUB+id] round published, [DONE+id] round done, [GO] arrivals at the barrier
const HANDLE = 0, PUB = 2, DONE = 4, GO = 6;
const STUCK_MS = 10_000;

interface Data {
  id: number;
  rounds: number;
  strict: boolean;
  ctl: SharedArrayBuffer;
}

function cloner(d: Data) {
  const ctl = new Int32Array(d.ctl);
  const me = d.id, other = 1 - d.id;
  const wrk = check("vlsb_worker_register", raw.vlsb_worker_register());
  const poller = new Poller();
  let ok = 0, closedOk = 0, maxTouchMs = 0;
  const wrong: Record<string, number> = {};
  stage(`thread ${me} (VCL worker ${wrk}): ${d.rounds} rounds`);
  for (let r = 1; r <= d.rounds; r++) {
    const h = check("vlsb_create", raw.vlsb_create(PROTO_TCP, 1));
    Atomics.store(ctl, HANDLE + me, h);
    Atomics.store(ctl, PUB + me, r);
    poller.pollUntil(() => Atomics.load(ctl, PUB + other) >= r, STUCK_MS, `the other thread's session, round ${r}`);
    crossBarrier(ctl, r);
    const t0 = nowMs();
    const rv = raw.vlsb_attr(Atomics.load(ctl, HANDLE + other), Attr.GET_FLAGS, 0, null);
    const touchMs = nowMs() - t0;
    maxTouchMs = Math.max(maxTouchMs, touchMs);
    if (d.strict && rv !== O_NONBLOCK) throw new Error(`round ${r}: the cross clone answered ${rv} after ${Math.round(touchMs)} ms`);
    if (rv === O_NONBLOCK) ok++;
    else wrong[rv] = (wrong[rv] ?? 0) + 1;
    Atomics.store(ctl, DONE + me, r);
    poller.pollUntil(() => Atomics.load(ctl, DONE + other) >= r, STUCK_MS, `the other thread to finish round ${r}`);
    if (raw.vlsb_close(h) === 0) closedOk++;
  }
  // Serve the other's last cleanup RPCs before leaving.
  Atomics.store(ctl, DONE + me, d.rounds + 1);
  poller.pollUntil(() => Atomics.load(ctl, DONE + other) > d.rounds, STUCK_MS, "the other thread to finish");
  const c = workerCounters(counters(), wrk);
  poller.close();
  return { wrk, ok, closedOk, wrong, maxTouchMs: Math.round(maxTouchMs), migrationsOk: c.migrationsOk, migrationsFailed: c.migrationsFailed, migrationsTimedOut: c.migrationsTimedOut, rpcsSent: c.rpcsSent, rpcsServed: c.rpcsServed };
}

/**
 * Both threads arrive, then both leave at once, without polling VLS (a poll
 * here would serve the other's request outside the call under test).
 */
function crossBarrier(ctl: Int32Array, round: number) {
  Atomics.add(ctl, GO, 1);
  const deadline = nowMs() + STUCK_MS;
  while (Atomics.load(ctl, GO) < 2 * round) {
    if (nowMs() > deadline) throw new Error(`stuck at the barrier of round ${round}`);
  }
}

if (!isMainThread) workerMain(cloner);
else
  scenario(async ({ backend, mode, extra }) => {
    const rounds = Number(extra[0] ?? 1000);
    const strict = extra[1] === "strict";
    await initApp(backend, mode);
    const ctl = new SharedArrayBuffer(4 * 8);
    const t0 = nowMs();
    const ws = [0, 1].map((id) => startWorker<any>(import.meta.url, { id, rounds, strict, ctl } satisfies Data));
    const threads = await Promise.all(ws.map((w) => w.result));
    const elapsedMs = Math.round(nowMs() - t0);
    const c = counters();
    return { rounds, elapsedMs, threads, contendedRpcLock: c.locks.worker_rpc?.contended ?? null, migrationsOk: sumOf(c, "migrationsOk"), migrationsTimedOut: sumOf(c, "migrationsTimedOut") };
  });
