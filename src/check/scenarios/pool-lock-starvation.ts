/**
 * Hazard (single mode): VLS's pool write lock taken while other threads
 * poll. Two Workers poll epoll sets of their own in a loop (each wait takes
 * VLS's locks as a reader); a third makes ROUNDS create+close pairs (each
 * needs the pool write lock), timing each call. The main thread makes no
 * VLS call: it watches, and reports where the third thread is stuck if it
 * does not finish within WATCH_MS.
 *
 *   bun pool-lock-starvation.ts BACKEND single [ROUNDS] [WATCH_MS]
 */
import { isMainThread } from "node:worker_threads";
import { scenario, workerMain, startWorker, stage, raw, check, Poller, spinUntil, nowMs } from "./lib.ts";
import { initApp } from "./app.ts";
import { PROTO_TCP } from "../../native/vls.ts";

// ctl slots
const POLLING = 0; // pollers that started polling
const STOP = 1; // 1: pollers stop
const STEP = 2; // the writer's current call: 2r+1 create, 2r+2 close of round r; 0 none
const FINISHED = 3; // writer done
const SLOTS = 4;

interface Data {
  role: "poller" | "writer";
  ctl: SharedArrayBuffer;
  rounds: number;
}

function poller(d: Data) {
  const ctl = new Int32Array(d.ctl);
  check("vlsb_worker_register", raw.vlsb_worker_register());
  const p = new Poller();
  Atomics.add(ctl, POLLING, 1);
  let waits = 0;
  while (Atomics.load(ctl, STOP) === 0) {
    p.poll(1);
    waits++;
  }
  p.close();
  return { waits };
}

function writer(d: Data) {
  const ctl = new Int32Array(d.ctl);
  check("vlsb_worker_register", raw.vlsb_worker_register());
  spinUntil(() => Atomics.load(ctl, POLLING) === 2, 10_000, "both pollers");
  stage(`create and close ${d.rounds} times while two threads poll`);
  let maxMs = 0, bad = 0;
  for (let r = 0; r < d.rounds; r++) {
    Atomics.store(ctl, STEP, 2 * r + 1);
    let t0 = nowMs();
    const h = raw.vlsb_create(PROTO_TCP, 1);
    maxMs = Math.max(maxMs, nowMs() - t0);
    Atomics.store(ctl, STEP, 2 * r + 2);
    t0 = nowMs();
    const c = h >= 0 ? raw.vlsb_close(h) : -1;
    maxMs = Math.max(maxMs, nowMs() - t0);
    if (h < 0 || c !== 0) bad++;
  }
  Atomics.store(ctl, STEP, 0);
  Atomics.store(ctl, FINISHED, 1);
  return { bad, maxMs: Math.round(maxMs * 100) / 100 };
}

if (!isMainThread) workerMain((d: Data) => (d.role === "poller" ? poller(d) : writer(d)));
else
  scenario(async ({ backend, mode, extra }) => {
    if (mode !== "single") throw new Error("single mode only");
    const rounds = Number(extra[0] ?? 200);
    const watchMs = Number(extra[1] ?? 2500);
    await initApp(backend, mode);
    const ctl = new SharedArrayBuffer(4 * SLOTS);
    const c32 = new Int32Array(ctl);
    const pollers = [0, 1].map(() => startWorker<any>(import.meta.url, { role: "poller", ctl, rounds } satisfies Data));
    const w = startWorker<any>(import.meta.url, { role: "writer", ctl, rounds } satisfies Data);
    let failure: unknown = null;
    for (const p of [...pollers, w]) p.result.catch((e) => (failure ??= e));
    stage("watch the writer");
    // The watch starts when both pollers poll (VLS startup is not timed).
    while (Atomics.load(c32, POLLING) < 2 && !failure) await Bun.sleep(1);
    const t0 = nowMs();
    while (!Atomics.load(c32, FINISHED) && !failure && nowMs() - t0 < watchMs) await Bun.sleep(1);
    if (failure) throw failure;
    const elapsedMs = Math.round(nowMs() - t0);
    if (!Atomics.load(c32, FINISHED)) {
      const step = Atomics.load(c32, STEP);
      const at = step ? `inside ${step % 2 ? "create" : "close"} of round ${Math.floor((step - 1) / 2) + 1}` : "before its first call";
      // Threads stuck in VLS end with the process.
      return { rounds, stuck: `the writer not done after ${watchMs} ms, ${at}` };
    }
    Atomics.store(c32, STOP, 1);
    const [wr, ...ps] = await Promise.all([w.result, ...pollers.map((p) => p.result)]);
    return { rounds, stuck: null, elapsedMs, writer: wr, pollerWaits: ps.map((p: any) => p.waits) };
  });
