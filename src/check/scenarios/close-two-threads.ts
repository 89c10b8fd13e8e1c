/**
 * Hazard (single mode): one session closed from two threads at the same
 * moment. Each round the main thread makes a connected pair; two Workers,
 * released together by an Atomics barrier, both call vlsb_close on the
 * pair's client handle. The design: one close answers 0, the other EBADFD
 * (the handle is gone), nothing crashes, and the app goes on (next round).
 *
 *   bun close-two-threads.ts BACKEND single [ROUNDS]
 */
import { isMainThread } from "node:worker_threads";
import { scenario, workerMain, startWorker, stage, raw, check, connectedPair, spinUntil, loopback } from "./lib.ts";
import { listenTcpAnyPort, type BackendName } from "../../native/vls.ts";
import { initApp } from "./app.ts";

// ctl slots
const ROUND = 0; // the round the closers may start (1-based), -1: stop
const HANDLE = 1; // the handle to close this round
const ARRIVED = 2; // closers at the barrier this round
const DONE = 3; // closes answered this round
const RV = 4; // RV + i: closer i's answer
const SLOTS = 8;

interface Data {
  index: number;
  ctl: SharedArrayBuffer;
}

function closer(d: Data) {
  const ctl = new Int32Array(d.ctl);
  const wrk = check("vlsb_worker_register", raw.vlsb_worker_register());
  for (let r = 1; ; r++) {
    // Wait for the round, then for the other closer: both leave the barrier together.
    while (Atomics.load(ctl, ROUND) !== r && Atomics.load(ctl, ROUND) !== -1) Atomics.wait(ctl, ROUND, r - 1, 50);
    if (Atomics.load(ctl, ROUND) === -1) return { wrk, rounds: r - 1 };
    const h = Atomics.load(ctl, HANDLE);
    Atomics.add(ctl, ARRIVED, 1);
    while (Atomics.load(ctl, ARRIVED) < 2);
    Atomics.store(ctl, RV + d.index, raw.vlsb_close(h));
    Atomics.add(ctl, DONE, 1);
    Atomics.notify(ctl, DONE);
  }
}

if (!isMainThread) workerMain((d: Data) => closer(d));
else
  scenario(async ({ backend, mode, extra }) => {
    if (mode !== "single") throw new Error("single mode only");
    const rounds = Number(extra[0] ?? 50);
    await initApp(backend, mode, "", { selfConnect: true });
    const { handle: l, port } = listenTcpAnyPort(loopback(0), backend as BackendName);
    const ctl = new SharedArrayBuffer(4 * SLOTS);
    const c32 = new Int32Array(ctl);
    const workers = [0, 1].map((index) => startWorker<any>(import.meta.url, { index, ctl } satisfies Data));
    const answers: Record<string, number> = {};
    const peerCloses: Record<string, number> = {};
    for (let r = 1; r <= rounds; r++) {
      const { c, s } = connectedPair(l, port);
      Atomics.store(c32, HANDLE, c);
      Atomics.store(c32, ARRIVED, 0);
      Atomics.store(c32, DONE, 0);
      stage(`round ${r}: two threads close handle ${c} at once`);
      Atomics.store(c32, ROUND, r);
      Atomics.notify(c32, ROUND);
      spinUntil(() => Atomics.load(c32, DONE) === 2, 3000, `both closes of round ${r}`);
      const key = [Atomics.load(c32, RV), Atomics.load(c32, RV + 1)].sort((a, b) => a - b).join(",");
      answers[key] = (answers[key] ?? 0) + 1;
      const pc = String(raw.vlsb_close(s));
      peerCloses[pc] = (peerCloses[pc] ?? 0) + 1;
    }
    Atomics.store(c32, ROUND, -1);
    Atomics.notify(c32, ROUND);
    const ws = await Promise.all(workers.map((w) => w.result));
    raw.vlsb_close(l);
    return { rounds, answers, peerCloses, workers: ws };
  });
