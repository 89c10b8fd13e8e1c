/**
 * Behaviour 8 (process mode): forked children killed with SIGKILL.
 * A JS SIGCHLD handler is installed before the fork (Bun installs a real
 * sigaction for it), so VLS's interception records it as the previous
 * handler. For each of two kills, one after the other:
 *   - the previous (JS) handler still runs;
 *   - VLS only queues the dead child in its handler: childCleanups does not
 *     move until the parent's next vlsb_epoll_wait, which cleans it up;
 *   - the surviving children keep serving (verified echoes), the dead one
 *     accepts nothing more.
 * The second kill also shows the interception was re-armed after the first
 * (the handler restores the previous one when it runs).
 *
 *   bun 08-child-killed.ts BACKEND MODE
 */
import { echoVerified, scenario, stage, raw, check, counters, nowMs, loopback, procState, killAndAwaitSigchld, type Counters } from "./lib.ts";
import { initApp } from "./app.ts";
import { forkEchoWorkers } from "../../native/ffi.ts";
import { listenTcpAnyPort } from "../../native/vls.ts";

const CHILDREN = 3;



scenario(async ({ backend, mode }) => {
  if (mode !== "process") throw new Error("process mode only");
  let jsSigchld = 0;
  process.on("SIGCHLD", () => {
    jsSigchld++;
  });
  await initApp(backend, mode);
  const { handle: l, port } = listenTcpAnyPort(loopback(0), backend);
  const pep = check("vlsb_epoll_create", raw.vlsb_epoll_create());
  const evs = new Uint32Array(new ArrayBuffer(8 * 16));
  const parentWrk = raw.vlsb_worker_index();
  stage(`fork ${CHILDREN} children`);
  const pids = forkEchoWorkers(l, CHILDREN);
  const wrkOf = new Map<number, number>(); // pid -> VCL worker index
  const t0 = nowMs();
  for (;;) {
    const c = counters();
    const kids = c.workers.filter((w) => w.index !== parentWrk && pids.includes(w.pid) && w.listenerStarts > 0);
    if (kids.length === CHILDREN) {
      for (const w of kids) wrkOf.set(w.pid, w.index);
      break;
    }
    if (nowMs() - t0 > 5000) throw new Error("children did not start within 5 s");
    raw.vlsb_epoll_wait(pep, evs, 16, 0);
    await Bun.sleep(5);
  }
  const acceptsOf = (c: Counters, pid: number) => c.workers.find((w) => w.index === wrkOf.get(pid))!.accepts;
  const serve = async (n: number) => (await Promise.all(Array.from({ length: n }, () => echoVerified(port, 8192)))).filter(Boolean).length;
  // The parent polls between bursts (not during them, not while a kill is pending).
  const servedBefore = await serve(9);
  raw.vlsb_epoll_wait(pep, evs, 16, 0);

  const kills: object[] = [];
  for (const victim of pids.slice(0, 2)) {
    stage(`SIGKILL child ${victim}`);
    const before = counters();
    const sigchldBefore = jsSigchld;
    await killAndAwaitSigchld(victim, () => jsSigchld > sigchldBefore);
    const victimState = procState(victim);
    const cleanupsBeforeWait = counters().childCleanups - before.childCleanups;
    const t2 = nowMs();
    const waitRv = raw.vlsb_epoll_wait(pep, evs, 16, 0);
    const waitMs = Math.round(nowMs() - t2);
    const cleanupsAfterWait = counters().childCleanups - before.childCleanups;
    const stillReaped = procState(victim) === "gone";
    stage("survivors serve");
    const mid = counters();
    const served = await serve(12);
    raw.vlsb_epoll_wait(pep, evs, 16, 0);
    const after = counters();
    const survivors = pids.filter((p) => p !== victim && procState(p) !== "gone" && procState(p) !== "Z");
    kills.push({
      victim, victimState, jsHandlerRan: jsSigchld - sigchldBefore, cleanupsBeforeWait, waitRv, waitMs, cleanupsAfterWait, reaped: stillReaped,
      served, victimAcceptsAfter: acceptsOf(after, victim) - acceptsOf(mid, victim),
      survivorsAccepts: survivors.reduce((a, p) => a + acceptsOf(after, p) - acceptsOf(mid, p), 0), survivors: survivors.length,
    });
  }
  stage("SIGTERM the last child");
  const last = pids[2];
  process.kill(last, "SIGTERM");
  const t3 = nowMs();
  while (counters().childCleanups < CHILDREN && nowMs() - t3 < 5000) {
    raw.vlsb_epoll_wait(pep, evs, 16, 10);
    await Bun.sleep(5);
  }
  const end = counters();
  raw.vlsb_close(pep);
  raw.vlsb_close(l);
  return { servedBefore, kills, jsSigchldTotal: jsSigchld, childCleanups: end.childCleanups, forks: end.forks, lastState: procState(last) };
});
