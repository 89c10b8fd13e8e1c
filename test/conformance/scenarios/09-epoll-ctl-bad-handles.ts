/**
 * Behaviour 9: vlsb_epoll_ctl with a bad epoll handle or a bad session
 * handle returns -EBADFD and leaves no lock held. Three threads (main, X, Y)
 * so that every VLS lock is really taken (with one thread none is).
 *
 * Phase 1: X makes each bad call REPEAT times: bad epoll handle (-1, random,
 * closed, a plain session), bad session handle (-1, closed, the set itself);
 * in thread mode also a set that cannot migrate (main's non-empty set) and a
 * session of another worker. Then Y, at once, makes calls that need the
 * locks a leak would leave taken (pool write lock: create/close; the set's
 * and the session's locks: attr, epoll_wait, epoll_ctl), each timed.
 * Phase 2: X repeats the bad calls while Y repeats its calls, concurrently.
 *
 * If Y does not finish in time, the main thread asks the lock-debug build
 * for the lock owners (SIGUSR2, to stderr) and reports where Y is stuck.
 *
 *   bun 09-epoll-ctl-bad-handles.ts BACKEND MODE [REPEAT] [CONCURRENT_ROUNDS]
 *   bun 09-epoll-ctl-bad-handles.ts BACKEND MODE only KIND
 *     only X's bad call KIND (a name in badCalls), made once, watched for 3 s
 */
import { isMainThread } from "node:worker_threads";
import { scenario, workerMain, startWorker, stage, raw, check, Poller, spinUntil, nowMs, loopback } from "./lib.ts";
import { initApp } from "./app.ts";
import { listenTcpAnyPort, Attr, O_NONBLOCK, EPOLLIN, EPOLL_CTL_ADD, EPOLL_CTL_DEL, type BackendName, type ModeName } from "../../../src/native/vls.ts";

// ctl slots
const PHASE = 0; // 1: X phase 1 done, 2: Y phase 1 done, 3: phase 2 go
const Y_STEP = 1; // index into Y_CALLS of Y's current call (+1), 0 = none
const X2_DONE = 2, Y2_DONE = 3;
const X_KIND = 4; // index into X's bad calls of the kind X is making (+1), 0 = none
const H_EP = 8, H_S = 9, H_S2 = 10, H_STALE_EP = 11, H_STALE_S = 12;
const Y_CALLS = ["create", "close", "attr", "epoll_wait", "epoll_ctl ADD", "epoll_ctl DEL"] as const;
const EBADFD = -77;
const SELF_ADD = "session is the set";
/** The bad calls VPP's VLS hangs in, per mode (pinned by the test's VPP cases). */
// thread: "ep closed" hung after the kinds before it in the full run (alone
// it returns EBADFD; not analysed).
export const VPP_HANGS: Record<string, string[]> = { single: [SELF_ADD], thread: [SELF_ADD, "ep closed"] };

interface Data {
  role: "X" | "Y";
  backend: BackendName;
  mode: ModeName;
  repeat: number;
  rounds: number;
  mainFullSet: number;
  mainSession: number;
  ctl: SharedArrayBuffer;
  /** Only this kind of bad call, made once and watched for 3 s. */
  only: string | null;
}

/** X's bad calls: name -> call. */
function badCalls(d: Data, h: Record<string, number>): [string, () => number][] {
  const calls: [string, () => number][] = [
    ["ep -1", () => raw.vlsb_epoll_ctl(-1, EPOLL_CTL_ADD, h.s, EPOLLIN, 1)],
    ["ep random", () => raw.vlsb_epoll_ctl(0x3ffffff7, EPOLL_CTL_ADD, h.s, EPOLLIN, 1)],
    ["ep closed", () => raw.vlsb_epoll_ctl(h.staleEp, EPOLL_CTL_ADD, h.s, EPOLLIN, 1)],
    ["ep is a plain session", () => raw.vlsb_epoll_ctl(h.s2, EPOLL_CTL_ADD, h.s, EPOLLIN, 1)],
    ["session -1", () => raw.vlsb_epoll_ctl(h.ep, EPOLL_CTL_ADD, -1, EPOLLIN, 1)],
    ["session closed", () => raw.vlsb_epoll_ctl(h.ep, EPOLL_CTL_ADD, h.staleS, EPOLLIN, 1)],
    ["session closed, DEL", () => raw.vlsb_epoll_ctl(h.ep, EPOLL_CTL_DEL, h.staleS, 0, 0)],
    [SELF_ADD, () => raw.vlsb_epoll_ctl(h.ep, EPOLL_CTL_ADD, h.ep, EPOLLIN, 1)],
  ];
  if (d.mode === "thread") {
    calls.push(["ep cannot migrate (non-empty, other worker)", () => raw.vlsb_epoll_ctl(d.mainFullSet, EPOLL_CTL_ADD, h.s, EPOLLIN, 1)]);
    calls.push(["session of another worker", () => raw.vlsb_epoll_ctl(h.ep, EPOLL_CTL_ADD, d.mainSession, EPOLLIN, 1)]);
  }
  // Kinds VPP's VLS never returns from (the calling thread hangs): each is
  // pinned by its own run (`only`); the full run on VPP leaves them out so
  // the other kinds are checked.
  if (d.only) return calls.filter(([n]) => n === d.only);
  if (d.backend === "vpp") return calls.filter(([n]) => !VPP_HANGS[d.mode]?.includes(n));
  return calls;
}

function threadX(d: Data) {
  const ctl = new Int32Array(d.ctl);
  const wrk = check("vlsb_worker_register", raw.vlsb_worker_register());
  const poller = new Poller();
  const ep = check("vlsb_epoll_create", raw.vlsb_epoll_create());
  const s = check("vlsb_create", raw.vlsb_create(0, 1));
  const s2 = check("vlsb_create", raw.vlsb_create(0, 1));
  const staleEp = check("vlsb_epoll_create", raw.vlsb_epoll_create());
  check("vlsb_close", raw.vlsb_close(staleEp));
  const staleS = check("vlsb_create", raw.vlsb_create(0, 1));
  check("vlsb_close", raw.vlsb_close(staleS));
  const h = { ep, s, s2, staleEp, staleS };
  Atomics.store(ctl, H_EP, ep);
  Atomics.store(ctl, H_S, s);
  Atomics.store(ctl, H_S2, s2);
  Atomics.store(ctl, H_STALE_EP, staleEp);
  Atomics.store(ctl, H_STALE_S, staleS);
  const calls = badCalls(d, h);
  stage(`X (VCL worker ${wrk}): ${calls.length} kinds of bad epoll_ctl x ${d.repeat}`);
  const results: Record<string, number> = {};
  const deviations: Record<string, number> = {};
  for (const [name, f] of calls) {
    Atomics.store(ctl, X_KIND, calls.findIndex(([n]) => n === name) + 1);
    results[name] = f();
    for (let i = 1; i < d.repeat; i++) if (f() !== results[name]) deviations[name] = (deviations[name] ?? 0) + 1;
  }
  Atomics.store(ctl, X_KIND, 0);
  if (d.only) {
    for (const x of [ep, s, s2]) raw.vlsb_close(x);
    poller.close();
    return { wrk, results, deviations, calls2: 0, bad2: 0 };
  }
  Atomics.store(ctl, PHASE, 1);
  stage("polling while Y works");
  poller.pollUntil(() => Atomics.load(ctl, PHASE) >= 3, 20_000, "phase 2");
  stage("phase 2, bad calls concurrently with Y");
  let bad2 = 0, calls2 = 0;
  for (let r = 0; r < d.rounds; r++) {
    for (let i = 0; i < calls.length; i++) {
      const [name, f] = calls[i];
      if (name.startsWith("ep cannot migrate") && r % 10) continue; // an RPC each: keep them few
      Atomics.store(ctl, X_KIND, i + 1);
      calls2++;
      if (f() !== EBADFD) bad2++;
    }
    if (r % 8 === 0) poller.poll(0);
  }
  Atomics.store(ctl, X_KIND, 0);
  Atomics.store(ctl, X2_DONE, 1);
  poller.pollUntil(() => Atomics.load(ctl, Y2_DONE) === 1, 20_000, "Y to finish phase 2");
  for (const x of [ep, s, s2]) raw.vlsb_close(x);
  poller.close();
  return { wrk, results, deviations, calls2, bad2 };
}

function threadY(d: Data) {
  const ctl = new Int32Array(d.ctl);
  const wrk = check("vlsb_worker_register", raw.vlsb_worker_register());
  const { handle: own } = listenTcpAnyPort(loopback(0), d.backend); // has a socket: can join a set
  const evs = new Uint32Array(new ArrayBuffer(64));
  spinUntil(() => Atomics.load(ctl, PHASE) >= 1, 20_000, "X's bad calls");
  const ep = Atomics.load(ctl, H_EP), s = Atomics.load(ctl, H_S);
  let created = -1;
  const ops: Record<(typeof Y_CALLS)[number], () => number> = {
    create: () => (created = raw.vlsb_create(0, 1)),
    close: () => raw.vlsb_close(created),
    attr: () => raw.vlsb_attr(s, Attr.GET_FLAGS, 0, null),
    epoll_wait: () => raw.vlsb_epoll_wait(ep, evs, 8, 0),
    "epoll_ctl ADD": () => raw.vlsb_epoll_ctl(ep, EPOLL_CTL_ADD, own, EPOLLIN, 5),
    "epoll_ctl DEL": () => raw.vlsb_epoll_ctl(ep, EPOLL_CTL_DEL, own, 0, 0),
  };
  const expected = (name: string, rv: number) =>
    name === "create" ? rv >= 0 : name === "attr" ? rv === O_NONBLOCK : rv === 0;
  stage("calls that need the locks");
  const results: Record<string, number> = {};
  const ms: Record<string, number> = {};
  Y_CALLS.forEach((name, i) => {
    Atomics.store(ctl, Y_STEP, i + 1);
    const t0 = nowMs();
    results[name] = ops[name]();
    ms[name] = Math.round((nowMs() - t0) * 100) / 100;
  });
  Atomics.store(ctl, Y_STEP, 0);
  Atomics.store(ctl, PHASE, 2);
  spinUntil(() => Atomics.load(ctl, PHASE) >= 3, 20_000, "phase 2");
  stage("phase 2");
  let calls2 = 0, unexpected2 = 0;
  for (let r = 0; r < d.rounds; r++)
    Y_CALLS.forEach((name, i) => {
      Atomics.store(ctl, Y_STEP, i + 1);
      calls2++;
      if (!expected(name, ops[name]())) unexpected2++;
    });
  Atomics.store(ctl, Y_STEP, 0);
  Atomics.store(ctl, Y2_DONE, 1);
  raw.vlsb_close(own);
  const allExpected = Y_CALLS.every((n) => expected(n, results[n]));
  return { wrk, results, ms, allExpected, calls2, unexpected2 };
}

if (!isMainThread) workerMain((d: Data) => (d.role === "X" ? threadX(d) : threadY(d)));
else
  scenario(async ({ backend, mode, extra }) => {
    const only = extra[0] === "only" ? extra[1] : null;
    const repeat = only ? 1 : Number(extra[0] ?? 200);
    const rounds = only ? 0 : Number(extra[1] ?? 3000);
    await initApp(backend, mode);
    const poller = new Poller();
    // Main's own non-empty set and a session of main's worker (thread mode cases).
    const mainFullSet = check("vlsb_epoll_create", raw.vlsb_epoll_create());
    const { handle: mainSession } = listenTcpAnyPort(loopback(0), backend);
    check("vlsb_epoll_ctl", raw.vlsb_epoll_ctl(mainFullSet, EPOLL_CTL_ADD, mainSession, EPOLLIN, 1));
    const ctl = new SharedArrayBuffer(4 * 16);
    const c32 = new Int32Array(ctl);
    const base = { backend, mode, repeat, rounds, mainFullSet, mainSession, ctl, only };
    const x = startWorker<any>(import.meta.url, { ...base, role: "X" } satisfies Data);
    const y = only ? null : startWorker<any>(import.meta.url, { ...base, role: "Y" } satisfies Data);
    let stuck: string | null = null;
    const watch = async (cond: () => boolean, ms: number, what: string) => {
      try {
        await poller.pollUntilAsync(cond, ms, what, y ? [x.result, y.result] : [x.result]);
      } catch (e) {
        if (!/timed out/.test(String(e))) throw e;
        const step = Atomics.load(c32, Y_STEP);
        const kind = Atomics.load(c32, X_KIND);
        const xKinds = badCalls({ ...base, role: "X" }, { ep: 0, s: 0, s2: 0, staleEp: 0, staleS: 0 }).map(([n]) => n);
        stuck = `${what}: not done after ${ms} ms${step ? `, Y inside ${Y_CALLS[step - 1]}` : ""}${kind ? `, X inside "${xKinds[kind - 1]}"` : ""}`;
        if (backend === "kernel") process.kill(process.pid, "SIGUSR2"); // lock-debug build: lock owners to stderr
        await Bun.sleep(100);
      }
    };
    stage("phase 1: X's bad calls");
    let xDone = false;
    if (only) void x.result.then(() => (xDone = true), () => (xDone = true));
    await watch(() => (only ? xDone : Atomics.load(c32, PHASE) >= 1), only ? 3000 : 10_000, "X's bad calls");
    if (only) {
      // Whatever the answer (or none: a hang), the case ends here; exiting
      // the process ends a thread stuck in the call.
      const xr = stuck ? null : await x.result.catch(() => null);
      return { mode, stuck, only, result: xr ? xr.results[only] : null };
    }
    if (!stuck) {
      stage("phase 1: Y's calls");
      await watch(() => Atomics.load(c32, PHASE) >= 2, 5_000, "Y's calls after X's bad calls");
    }
    let phase2Ms = 0;
    if (!stuck) {
      stage("phase 2: concurrent");
      const t0 = nowMs();
      Atomics.store(c32, PHASE, 3);
      await watch(() => Atomics.load(c32, X2_DONE) === 1 && Atomics.load(c32, Y2_DONE) === 1, 20_000, "phase 2");
      phase2Ms = Math.round(nowMs() - t0);
    }
    if (stuck) return { mode, stuck };
    const [xr, yr] = await Promise.all([x.result, y!.result]);
    return { mode, stuck, repeat, rounds, x: xr, y: yr, phase2Ms };
  });
