/** Probe (hazard): in process mode, a connection a child accepted never gets its events ("session overlap"). */
import { brief, type Probe } from "../probe.ts";

const CHILDREN = 2;
const CONNS = 32;
const SIZE = 1024;

/**
 * The parent forks 2 native echo workers sharing its listener; each accepts
 * through its own epoll set and echoes on the accepted sessions' events.
 * 32 connections, one verified 1 KiB echo each, 2 s at most. The hazard: VCL
 * in a child takes an accepted session for one it already has ("session
 * overlap"), the session is added to the child's epoll set but no event for
 * it ever arrives, and its client waits until the child exits. ok = every
 * connection was served; the difference says how many were not, and how
 * many the children had accepted (accepted but unserved: the lost events).
 */
export const processAcceptEvents: Probe = {
  id: "process-accept-events",
  behaviour: `Process mode, ${CHILDREN} forked workers accepting through their own epoll sets: a connection a worker accepted never gets its events (VCL's "session overlap"), its client waits until the worker exits.`,
  kind: "hazard",
  scenario: "process-accept-events",
  args: () => ["process", String(CHILDREN), String(CONNS), String(SIZE)],
  timeoutMs: 10_000,
  judge({ result: r }) {
    if (typeof r?.served !== "number" || !Array.isArray(r.accepts) || r.connections !== CONNS) throw new Error("not a process-accept-events result");
    if (r.forks !== CHILDREN) return `${r.forks} workers forked, not ${CHILDREN}`;
    const diffs: string[] = [];
    if (r.served !== CONNS) {
      const stuck = Math.max(0, Math.min(r.acceptedTotal, CONNS) - r.served);
      diffs.push(`${CONNS - r.served}/${CONNS} connections never echoed (${stuck} of them accepted by a worker: no event), accepts per worker ${r.accepts.join("/")}${r.client ? `, client ${brief(r.client)}` : ""}`);
    }
    if (r.childrenGone !== true) diffs.push("the workers did not exit on SIGTERM");
    return diffs.length ? diffs.join("; ") : null;
  },
};
