/**
 * Behaviour 8 on VPP: forked children killed with SIGKILL, seen through what
 * VPP lets vlsbench observe. A JS SIGCHLD handler is installed before the
 * fork, so VPP's VLS records it as the previous handler when it intercepts
 * SIGCHLD at fork time. For each of two kills, one after the other:
 *   - the JS handler runs (chained by VLS's handler, or directly once VLS
 *     has put the previous handler back);
 *   - the parent's next epoll_wait returns promptly (no deadlock);
 *   - the victim stays a zombie: VPP's VLS does not reap (the embedded model
 *     does, in the parent's next epoll_wait);
 *   - verified echoes from another VCL app still succeed (VPP drops the dead
 *     child's app worker when its connection to VPP closes), and the victim
 *     accepts nothing more.
 *
 *   bun 08-child-killed-vpp.ts vpp process
 */
import { scenario, stage, raw, counters, nowMs, procState, killAndAwaitSigchld, type Counters } from "./lib.ts";
import { processModeParent, clientEcho } from "./app.ts";
import { forkEchoWorkers } from "../../native/ffi.ts";
import type { BackendName } from "../../native/vls.ts";

const CHILDREN = 3;


scenario(async ({ backend, mode }) => {
  if (backend !== "vpp" || mode !== "process") throw new Error("this is the vpp process-mode variant");
  let jsSigchld = 0;
  process.on("SIGCHLD", () => {
    jsSigchld++;
  });
  const { l, port, pep, evs } = await processModeParent(backend as BackendName);
  const parentWrk = raw.vlsb_worker_index();
  stage(`fork ${CHILDREN} children`);
  const pids = forkEchoWorkers(l, CHILDREN);
  const acceptsOf = (c: Counters, pid: number) => c.workers.find((w) => w.pid === pid && w.index !== parentWrk)?.accepts ?? 0;
  const before0 = await clientEcho(port, 9, 18, 8192);

  const kills: object[] = [];
  for (const victim of pids.slice(0, 2)) {
    stage(`SIGKILL child ${victim}`);
    const sigchldBefore = jsSigchld;
    await killAndAwaitSigchld(victim, () => jsSigchld > sigchldBefore);
    const t2 = nowMs();
    const waitRv = raw.vlsb_epoll_wait(pep, evs, 16, 0);
    const waitMs = Math.round(nowMs() - t2);
    const stateAfterWait = procState(victim);
    await Bun.sleep(100); // VPP sees the victim's connection to it close
    stage("survivors serve");
    const mid = counters();
    const served = await clientEcho(port, 12, 24, 8192, 30_000, 5);
    raw.vlsb_epoll_wait(pep, evs, 16, 0);
    const after = counters();
    kills.push({
      jsHandlerRan: jsSigchld - sigchldBefore, waitRv, waitMs, stateAfterWait,
      served: { ok: served.ok, messages: served.messages, errors: served.errors, firstError: served.firstError },
      victimAcceptsAfter: acceptsOf(after, victim) - acceptsOf(mid, victim),
      survivorsAccepts: pids.filter((p) => p !== victim).reduce((a, p) => a + acceptsOf(after, p) - acceptsOf(mid, p), 0),
    });
  }
  stage("SIGTERM the last child; the app reaps its children itself");
  process.kill(pids[2], "SIGTERM");
  const t3 = nowMs();
  while (procState(pids[2]) !== "Z" && procState(pids[2]) !== "gone" && nowMs() - t3 < 3000) await Bun.sleep(5);
  const reapedByApp = raw.vlsb_reap_children();
  const end = counters();
  raw.vlsb_close(pep);
  raw.vlsb_close(l);
  return { forks: end.forks, before: { ok: before0.ok, messages: before0.messages }, kills, reapedByApp, finalStates: pids.map(procState) };
});
