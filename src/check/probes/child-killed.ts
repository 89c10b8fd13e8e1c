/**
 * Probes: a forked worker killed with SIGKILL is cleaned up on the parent's
 * next epoll wait (VLS's SIGCHLD handler only notes it), the handler the app
 * installed before still runs, nothing deadlocks, and the other workers keep
 * serving. Two kills in a row (the interception is re-armed). One probe per
 * backend: the embedded model's scenario reads its cleanup counters, VPP's
 * sees return codes and verified echoes from another VCL app.
 */
import { brief, type Probe } from "../probe.ts";

const BEHAVIOUR = "Process mode, 3 workers, two killed one after the other with SIGKILL: each dead worker is cleaned up on the parent's next epoll wait (not in the SIGCHLD handler), the app's earlier SIGCHLD handler still runs, the wait returns promptly, the survivors keep serving and the dead one accepts nothing more";

/** What both scenarios report per kill, judged alike. */
function killDiffs(k: any, i: number, served: (k: any) => boolean): string[] {
  const d: string[] = [];
  if (!(k.jsHandlerRan >= 1)) d.push(`kill ${i + 1}: the earlier SIGCHLD handler did not run`);
  if (!(k.waitRv >= 0) || !(k.waitMs < 1000)) d.push(`kill ${i + 1}: next epoll wait gave ${k.waitRv} after ${k.waitMs} ms`);
  if (!served(k)) d.push(`kill ${i + 1}: survivors served ${brief(k.served)}`);
  if (k.victimAcceptsAfter !== 0 || k.survivorsAccepts !== 12) d.push(`kill ${i + 1}: victim accepted ${k.victimAcceptsAfter}, survivors ${k.survivorsAccepts} of 12`);
  return d;
}

/** Embedded model (08-child-killed): cleanups move only at the next epoll wait, which also reaps. */
export const childKilled: Probe = {
  id: "child-killed",
  behaviour: `${BEHAVIOUR}.`,
  kind: "design",
  scenario: "08-child-killed",
  args: () => ["process"],
  timeoutMs: 8_000,
  backends: ["kernel"],
  judge({ result: r }) {
    if (!Array.isArray(r?.kills)) throw new Error("no kills reported");
    const diffs: string[] = [];
    if (r.forks !== 3 || r.kills.length !== 2) diffs.push(`${r.forks} forks, ${r.kills.length} kills`);
    if (r.servedBefore !== 9) diffs.push(`${r.servedBefore}/9 echoes before the kills`);
    r.kills.forEach((k: any, i: number) => {
      diffs.push(...killDiffs(k, i, (k) => k.served === 12));
      if (k.victimState !== "Z" || k.cleanupsBeforeWait !== 0) diffs.push(`kill ${i + 1}: before the wait the victim was ${k.victimState}, ${k.cleanupsBeforeWait} cleanups (cleaned in the handler)`);
      if (k.cleanupsAfterWait !== 1 || k.reaped !== true) diffs.push(`kill ${i + 1}: after the wait ${k.cleanupsAfterWait} cleanups, reaped ${k.reaped}`);
    });
    if (r.childCleanups !== 3 || r.lastState !== "gone") diffs.push(`${r.childCleanups} cleanups at the end, last child ${r.lastState}`);
    return diffs.length ? diffs.join("; ") : null;
  },
};

/**
 * VPP (08-child-killed-vpp): VLS's cleanup itself is not observable, its
 * effects are (prompt wait, survivors serve, the victim gets nothing). VPP's
 * VLS does not reap the dead child (the app does); that is not part of the
 * behaviour, so a zombie after the wait is not a difference.
 */
export const childKilledVpp: Probe = {
  id: "child-killed-vpp",
  behaviour: `${BEHAVIOUR} (seen through VPP: every echo of another VCL app verified).`,
  kind: "design",
  scenario: "08-child-killed-vpp",
  args: () => ["process"],
  timeoutMs: 12_000,
  backends: ["vpp"],
  judge({ result: r }) {
    if (!Array.isArray(r?.kills)) throw new Error("no kills reported");
    const diffs: string[] = [];
    if (r.forks !== 3 || r.kills.length !== 2) diffs.push(`${r.forks} forks, ${r.kills.length} kills`);
    if (r.before?.ok !== true || r.before.messages !== 18) diffs.push(`before the kills: ${brief(r.before)}`);
    r.kills.forEach((k: any, i: number) => diffs.push(...killDiffs(k, i, (k) => k.served?.ok === true && k.served.messages === 24 && k.served.firstError === null)));
    if (r.reapedByApp !== 3 || !Array.isArray(r.finalStates) || r.finalStates.some((s: string) => s !== "gone")) diffs.push(`at the end: ${r.reapedByApp} reaped, states ${r.finalStates?.join("/")}`);
    return diffs.length ? diffs.join("; ") : null;
  },
};
