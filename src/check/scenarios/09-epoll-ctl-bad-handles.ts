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
 *   bun 09-epoll-ctl-bad-handles.ts BACKEND MODE [REPEAT] [CONCURRENT_ROUNDS] [KINDS]
 *     KINDS "all" (default): every bad call below; "shared": only those that
 *     both backends answer with EBADFD and that leave VLS intact (see
 *     SHARED_KINDS), the others are pinned one by one with `only`
 *   bun 09-epoll-ctl-bad-handles.ts BACKEND MODE only KIND [helper]
 *     only X's bad call KIND (a name in badCalls), made once and watched for
 *     3 s, then one more call (an epoll_ctl on handle -1, which takes VLS's
 *     pool read lock first) watched for 3 s: whether the bad call left VLS
 *     usable. With "helper", a second worker thread H registers too (VLS then
 *     counts two threads) and owns the non-empty set and the session of
 *     another worker, serving the clone RPCs until X's bad call returned.
 *     The main thread makes no VLS call while it watches.
 */
import { isMainThread } from "node:worker_threads";
import { scenario, workerMain, startWorker, stage, raw, check, Poller, spinUntil, nowMs, loopback } from "./lib.ts";
import { initApp } from "./app.ts";
import { listenTcpAnyPort, Attr, O_NONBLOCK, EPOLLIN, EPOLL_CTL_ADD, EPOLL_CTL_DEL, type BackendName, type ModeName, PROTO_TCP } from "../../native/vls.ts";

// ctl slots
const PHASE = 0; // 1: X phase 1 done, 2: Y phase 1 done, 3: phase 2 go
const Y_STEP = 1; // index into Y_CALLS of Y's current call (+1), 0 = none
const X2_DONE = 2, Y2_DONE = 3;
const X_KIND = 4; // index into X's bad calls of the kind X is making (+1), 0 = none
const H_EP = 8, H_S = 9, H_S2 = 10, H_STALE_EP = 11, H_STALE_S = 12;
const Y_OWN_READY = 5; // Y created its own listener (before X creates and closes its handles)
const ONLY_RV1 = 13, ONLY_RV2 = 14, ONLY_STEP = 15; // only mode: X's answers; step 1: bad call done, 2: next call done
const H_READY = 6, H_SET = 7, H_SESSION = 16; // only mode's helper thread
const CTL_SLOTS = 20;
const Y_CALLS = ["create", "close", "attr", "epoll_wait", "epoll_ctl ADD", "epoll_ctl DEL"] as const;
const EBADFD = -77;
const SELF_ADD = "session is the set";
/**
 * The kinds both backends answer with EBADFD, every time, without leaving a
 * lock behind: the handle is -1, a number no session ever had, or a closed
 * session's (closed just before and not reused: nothing is created between
 * the close and the bad calls of phase 1). In phase 2 on VPP the closed
 * kinds are left out: VPP's VLS reuses a closed handle's number at once (no
 * generation, unlike the embedded model), so while Y creates and closes
 * sessions the closed handle may name Y's new session.
 */
export const SHARED_KINDS = ["ep -1", "ep random", "ep closed", "session -1", "session closed", "session closed, DEL"];
const CLOSED_KINDS = ["ep closed", "session closed", "session closed, DEL"];
interface Data {
  role: "X" | "Y" | "H";
  backend: BackendName;
  mode: ModeName;
  repeat: number;
  rounds: number;
  mainFullSet: number;
  mainSession: number;
  ctl: SharedArrayBuffer;
  /** Only this kind of bad call, made once and watched for 3 s. */
  only: string | null;
  /** "all" or "shared" (SHARED_KINDS). */
  kinds: string;
  /** only mode: a helper thread H runs too. */
  helper: boolean;
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
  if (d.only) return calls.filter(([n]) => n === d.only);
  if (d.kinds === "shared") return calls.filter(([n]) => SHARED_KINDS.includes(n));
  return calls;
}

function threadX(d: Data) {
  const ctl = new Int32Array(d.ctl);
  const wrk = check("vlsb_worker_register", raw.vlsb_worker_register());
  if (d.only) return onlyX(d, ctl, wrk);
  // Y's listener first: nothing is created between the closes below and the
  // bad calls of phase 1, so the closed handles name no session.
  spinUntil(() => Atomics.load(ctl, Y_OWN_READY) === 1, 20_000, "Y's listener");
  const poller = new Poller();
  const h = xHandles();
  const { ep, s, s2 } = h;
  Atomics.store(ctl, H_EP, ep);
  Atomics.store(ctl, H_S, s);
  Atomics.store(ctl, H_S2, s2);
  Atomics.store(ctl, H_STALE_EP, h.staleEp);
  Atomics.store(ctl, H_STALE_S, h.staleS);
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
  Atomics.store(ctl, PHASE, 1);
  stage("polling while Y works");
  // Thread mode: X serves the clone RPCs of Y's first calls on X's set and
  // session. Single mode: no RPCs, and X does not compete for VCL's message
  // queue lock while it waits (VPP's VLS gives that lock to no one in turn).
  // The embedded model's runs keep polling in both modes, as they always did.
  const polls = d.mode === "thread" || d.backend === "kernel";
  const waitFor = (cond: () => boolean, what: string) =>
    polls ? poller.pollUntil(cond, 20_000, what) : spinUntil(cond, 20_000, what);
  waitFor(() => Atomics.load(ctl, PHASE) >= 3, "phase 2");
  const calls2List = d.backend === "vpp" ? calls.filter(([n]) => !CLOSED_KINDS.includes(n)) : calls;
  stage("phase 2, bad calls concurrently with Y");
  let bad2 = 0, calls2 = 0;
  for (let r = 0; r < d.rounds; r++) {
    for (let i = 0; i < calls2List.length; i++) {
      const [name, f] = calls2List[i];
      if (name.startsWith("ep cannot migrate") && r % 10) continue; // an RPC each: keep them few
      Atomics.store(ctl, X_KIND, calls.findIndex(([n]) => n === name) + 1);
      calls2++;
      if (f() !== EBADFD) bad2++;
    }
    if (r % 8 === 0 && polls) poller.poll(0);
  }
  Atomics.store(ctl, X_KIND, 0);
  Atomics.store(ctl, X2_DONE, 1);
  waitFor(() => Atomics.load(ctl, Y2_DONE) === 1, "Y to finish phase 2");
  for (const x of [ep, s, s2]) raw.vlsb_close(x);
  poller.close();
  return { wrk, results, deviations, calls2, bad2, kinds2: calls2List.length };
}

/** X's handles: an epoll set, two CLOSED sessions, and a closed set and session (stale handles). */
function xHandles() {
  const ep = check("vlsb_epoll_create", raw.vlsb_epoll_create());
  const s = check("vlsb_create", raw.vlsb_create(PROTO_TCP, 1));
  const s2 = check("vlsb_create", raw.vlsb_create(PROTO_TCP, 1));
  const staleEp = check("vlsb_epoll_create", raw.vlsb_epoll_create());
  check("vlsb_close", raw.vlsb_close(staleEp));
  const staleS = check("vlsb_create", raw.vlsb_create(PROTO_TCP, 1));
  check("vlsb_close", raw.vlsb_close(staleS));
  return { ep, s, s2, staleEp, staleS };
}

/** only mode, X: the bad call once, then an epoll_ctl on handle -1 (pool read lock first). */
function onlyX(d: Data, ctl: Int32Array, wrk: number) {
  const helper = d.helper;
  if (helper) spinUntil(() => Atomics.load(ctl, H_READY) === 1, 20_000, "the helper thread");
  const xh = xHandles();
  const { s } = xh;
  const other = helper ? { ...d, mainFullSet: Atomics.load(ctl, H_SET), mainSession: Atomics.load(ctl, H_SESSION) } : d;
  const [[name, f]] = badCalls(other, xh);
  stage(`X (VCL worker ${wrk}): ${name}, once${helper ? ", helper thread registered" : ""}`);
  Atomics.store(ctl, X_KIND, 1);
  Atomics.store(ctl, ONLY_RV1, f());
  Atomics.store(ctl, X_KIND, 0);
  Atomics.store(ctl, ONLY_STEP, 1);
  stage("X: the next call, epoll_ctl on handle -1");
  Atomics.store(ctl, ONLY_RV2, raw.vlsb_epoll_ctl(-1, EPOLL_CTL_ADD, s, EPOLLIN, 1));
  Atomics.store(ctl, ONLY_STEP, 2);
  return { wrk };
}

/** only mode, H: a second registered thread owning a non-empty set and a session; serves RPCs until X's bad call returned. */
function threadH(d: Data) {
  const ctl = new Int32Array(d.ctl);
  check("vlsb_worker_register", raw.vlsb_worker_register());
  const poller = new Poller();
  const set = check("vlsb_epoll_create", raw.vlsb_epoll_create());
  const { handle: session } = listenTcpAnyPort(loopback(0), d.backend);
  check("vlsb_epoll_ctl", raw.vlsb_epoll_ctl(set, EPOLL_CTL_ADD, session, EPOLLIN, 1));
  Atomics.store(ctl, H_SET, set);
  Atomics.store(ctl, H_SESSION, session);
  Atomics.store(ctl, H_READY, 1);
  // After X's bad call H makes no VLS call: it would hang where X's next call does.
  poller.pollUntil(() => Atomics.load(ctl, ONLY_STEP) >= 1, 20_000, "X's bad call");
  return {};
}

function threadY(d: Data) {
  const ctl = new Int32Array(d.ctl);
  const wrk = check("vlsb_worker_register", raw.vlsb_worker_register());
  const { handle: own } = listenTcpAnyPort(loopback(0), d.backend); // has a socket: can join a set
  Atomics.store(ctl, Y_OWN_READY, 1);
  const evs = new Uint32Array(new ArrayBuffer(64));
  spinUntil(() => Atomics.load(ctl, PHASE) >= 1, 20_000, "X's bad calls");
  const ep = Atomics.load(ctl, H_EP), s = Atomics.load(ctl, H_S);
  let created = -1;
  const ops: Record<(typeof Y_CALLS)[number], () => number> = {
    create: () => (created = raw.vlsb_create(PROTO_TCP, 1)),
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

if (!isMainThread) workerMain((d: Data) => (d.role === "X" ? threadX(d) : d.role === "Y" ? threadY(d) : threadH(d)));
else
  scenario(async ({ backend, mode, extra }) => {
    const only = extra[0] === "only" ? extra[1] : null;
    const helper = only !== null && extra[2] === "helper";
    const repeat = only ? 1 : Number(extra[0] ?? 200);
    const rounds = only ? 0 : Number(extra[1] ?? 3000);
    const kinds = only ? "only" : (extra[2] ?? "all");
    await initApp(backend, mode);
    const poller = new Poller();
    // Main's own non-empty set and a session of main's worker (thread mode cases).
    const mainFullSet = check("vlsb_epoll_create", raw.vlsb_epoll_create());
    const { handle: mainSession } = listenTcpAnyPort(loopback(0), backend);
    check("vlsb_epoll_ctl", raw.vlsb_epoll_ctl(mainFullSet, EPOLL_CTL_ADD, mainSession, EPOLLIN, 1));
    const ctl = new SharedArrayBuffer(4 * CTL_SLOTS);
    const c32 = new Int32Array(ctl);
    const base = { backend, mode, repeat, rounds, mainFullSet, mainSession, ctl, only, kinds, helper };
    const x = startWorker<any>(import.meta.url, { ...base, role: "X" } satisfies Data);
    const y = only ? (helper ? startWorker<any>(import.meta.url, { ...base, role: "H" } satisfies Data) : null) : startWorker<any>(import.meta.url, { ...base, role: "Y" } satisfies Data);
    // Main polls VLS (serving RPCs) on the embedded model and in full runs;
    // on VPP it makes no VLS call while it watches, so a lock a bad call
    // leaves broken cannot stop the watch.
    const mainServes = !only && (kinds === "all" || backend === "kernel");
    let stuck: string | null = null;
    const watch = async (cond: () => boolean, ms: number, what: string) => {
      try {
        if (mainServes) await poller.pollUntilAsync(cond, ms, what, y ? [x.result, y.result] : [x.result]);
        else await sleepUntil(cond, ms, what, y && !only ? [x.result, y.result] : [x.result]);
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
    if (only) {
      // Whatever the answers (or none: a hang), the case ends here; exiting
      // the process ends a thread stuck in a call.
      stage("only: X's bad call");
      await watch(() => Atomics.load(c32, ONLY_STEP) >= 1, 3000, "X's bad call");
      if (stuck) return { mode, stuck, only, helper, result: null, next: null };
      const result = Atomics.load(c32, ONLY_RV1);
      stage("only: X's next call");
      await watch(() => Atomics.load(c32, ONLY_STEP) >= 2, 3000, "X's next call");
      const next = stuck ? null : Atomics.load(c32, ONLY_RV2);
      return { mode, stuck, only, helper, result, next };
    }
    stage("phase 1: X's bad calls");
    await watch(() => Atomics.load(c32, PHASE) >= 1, 10_000, "X's bad calls");
    if (!stuck) {
      stage("phase 1: Y's calls");
      await watch(() => Atomics.load(c32, PHASE) >= 2, 5_000, "Y's calls after X's bad calls");
    }
    let phase2Ms = 0, xPhase2Ms = 0;
    if (!stuck) {
      stage("phase 2: concurrent");
      const t0 = nowMs();
      Atomics.store(c32, PHASE, 3);
      // X's bad calls first (they must not hang), then Y's calls (which on
      // VPP may wait until X stops: a timing matter, not asserted).
      await watch(() => Atomics.load(c32, X2_DONE) === 1, 20_000, "phase 2, X's bad calls");
      xPhase2Ms = Math.round(nowMs() - t0);
      if (!stuck) await watch(() => Atomics.load(c32, Y2_DONE) === 1, 20_000, "phase 2, Y's calls");
      phase2Ms = Math.round(nowMs() - t0);
    }
    if (stuck) return { mode, stuck };
    const [xr, yr] = await Promise.all([x.result, y!.result]);
    return { mode, stuck, repeat, rounds, kinds, x: xr, y: yr, phase2Ms, xPhase2Ms };
  });

/** Waits (no VLS call) until cond() holds, letting the event loop turn; throws after ms. */
async function sleepUntil(cond: () => boolean, ms: number, what: string, reject: Promise<unknown>[]): Promise<void> {
  const end = nowMs() + ms;
  let failure: unknown = null;
  for (const p of reject) p.catch((e) => (failure ??= e));
  while (!cond()) {
    if (failure) throw failure;
    if (nowMs() > end) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await Bun.sleep(1);
  }
}
