/**
 * Probes: in process mode a listener starts listening for a forked child
 * when the child adds it to its own epoll set, and the parent's epoll DEL
 * does not stop it. The embedded model and VPP show it through different
 * scenarios (the model's counters, VPP's per-worker accepts), so one probe
 * per backend with the same behaviour.
 */
import { brief, type Probe } from "../probe.ts";

const CHILDREN = 3;
const BEHAVIOUR = `Process mode, ${CHILDREN} forked children sharing a listener: each child's epoll ADD starts the listener for that child (every child accepts), and the parent's epoll DEL does not stop the parent's own listening`;

/**
 * Embedded model (07-process-listeners children): each child's ADD is one
 * listener start; the parent's ADD starts its own once, DEL stops nothing,
 * the re-ADD starts nothing new, and the children serve everything between.
 */
export const processListeners: Probe = {
  id: "process-listeners",
  behaviour: `${BEHAVIOUR} (the re-ADD starts nothing new).`,
  kind: "design",
  scenario: "07-process-listeners",
  args: () => ["process", "children"],
  timeoutMs: 8_000,
  backends: ["kernel"],
  judge({ result: r }) {
    if (!Array.isArray(r?.distribution) || !r.parent || !r.afterDel) throw new Error("not a children result");
    const diffs: string[] = [];
    if (r.forks !== CHILDREN || r.distribution.length !== CHILDREN) diffs.push(`${r.forks} forks, ${r.distribution.length} children counted`);
    const starts = r.distribution.map((w: any) => w.listenerStarts);
    const accepts = r.distribution.map((w: any) => w.accepts);
    if (starts.some((s: number) => s !== 1)) diffs.push(`listener starts per child ${starts.join("/")} (one each on its ADD)`);
    if (accepts.some((a: number) => !(a > 0))) diffs.push(`accepts per child ${accepts.join("/")}`);
    if (r.exact !== r.connections) diffs.push(`${r.exact}/${r.connections} echoes exact`);
    const p = r.parent;
    if ([p.add1, p.del, p.add2].some((x: number) => x !== 0)) diffs.push(`parent ADD/DEL/ADD ${p.add1}/${p.del}/${p.add2}`);
    if (p.startsBefore !== 0 || p.startsAfterAdd1 !== 1 || p.startsAfterAdd2 !== 1) diffs.push(`parent listener starts before/after ADD/after re-ADD ${p.startsBefore}/${p.startsAfterAdd1}/${p.startsAfterAdd2}`);
    if (r.afterDel.exact !== r.afterDel.of || r.afterDel.childAccepts !== r.afterDel.of) diffs.push(`after the parent's DEL: ${brief(r.afterDel)}`);
    if (p.accepted !== 3 || !(p.events > 0)) diffs.push(`parent alone: ${p.accepted} accepted, ${p.events} events`);
    if (r.childCleanups !== CHILDREN) diffs.push(`${r.childCleanups} children cleaned up`);
    return diffs.length ? diffs.join("; ") : null;
  },
};

/**
 * VPP (07-process-listeners-vpp): VPP hands each new connection to one of
 * the app's listening workers. Every child accepting shows each child's ADD
 * started it; after the parent's ADD then DEL, VPP still gives the parent
 * (not polling) a share of new connections: its listening was kept. Those
 * wait unaccepted (the client's connects time out) while the children serve
 * the rest; with the children gone the parent serves alone.
 */
export const processListenersVpp: Probe = {
  id: "process-listeners-vpp",
  behaviour: `${BEHAVIOUR} (VPP then hands the idle parent its share of new connections).`,
  kind: "design",
  scenario: "07-process-listeners-vpp",
  args: () => ["process"],
  // Rounds of echoes run until every child has accepted: 4-10 s seen.
  timeoutMs: 20_000,
  backends: ["vpp"],
  judge({ result: r }) {
    if (!Array.isArray(r?.split) || !r.stranded || !Array.isArray(r.rounds)) throw new Error("not a VPP children result");
    const diffs: string[] = [];
    if (r.forks !== CHILDREN || r.split.length !== CHILDREN) diffs.push(`${r.forks} forks, ${r.split.length} children counted`);
    if (r.rounds[0]?.ok !== true) diffs.push(`first echoes through the children: ${brief(r.rounds[0])}`);
    if (r.split.some((a: number) => !(a > 0))) diffs.push(`accepts per child ${r.split.join("/")} (a child's ADD did not start it)`);
    if ([r.add1, r.del, r.add2].some((x: number) => x !== 0)) diffs.push(`parent ADD/DEL/ADD ${r.add1}/${r.del}/${r.add2}`);
    const s = r.stranded;
    if (!(s.parentAccepted > 0)) diffs.push(`after the parent's DEL VPP gave it no connection (its listening was stopped); children served ${s.childAccepts}`);
    else if (s.childAccepts + s.parentAccepted !== 30 || s.messages !== s.childAccepts) diffs.push(`after the parent's DEL: children ${s.childAccepts}, parent ${s.parentAccepted}, echoes ${s.messages} of 30`);
    if (r.childrenGone !== true) diffs.push("the children did not exit");
    if (r.alone?.ok !== true || r.alone.parent?.accepted !== 6) diffs.push(`parent alone: ${brief({ ok: r.alone?.ok, accepted: r.alone?.parent?.accepted, firstError: r.alone?.firstError })}`);
    if (r.closeEp !== 0 || r.closeListener !== 0) diffs.push(`close epoll/listener ${r.closeEp}/${r.closeListener}`);
    return diffs.length ? diffs.join("; ") : null;
  },
};
