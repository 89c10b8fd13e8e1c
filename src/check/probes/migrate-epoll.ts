/** Probe: an empty epoll set migrates to the thread that uses it; a non-empty one does not. */
import { brief, type Probe } from "../probe.ts";

const EPOLLIN = 1, EBADFD = -77, EINVAL = -22, EINPROGRESS = -115;

/**
 * Thread mode: the main thread creates an epoll set, a worker thread uses
 * it (it migrates, and reports the worker's own listener and connection);
 * a second set, with a session in it, stays with the main thread: the
 * worker's epoll_ctl and epoll_wait on it fail with -EBADFD, while it
 * keeps reporting events to its owner.
 */
export const migrateEpoll: Probe = {
  id: "migrate-epoll",
  behaviour: "An empty epoll set created on one worker thread migrates to the thread that uses it and reports that thread's sessions; a non-empty set does not migrate (epoll_ctl and epoll_wait -EBADFD) and keeps working for its owner.",
  kind: "design",
  scenario: "03-migrate-epoll",
  args: () => ["thread"],
  timeoutMs: 10_000,
  judge({ result: r }, ctx) {
    const w = r?.worker;
    if (!w || typeof w !== "object") throw new Error("no worker result");
    const diffs: string[] = [];
    const ev = (e: any, data: number) => e && e.events === EPOLLIN && e.data === data;
    if (w.addListener !== 0 || w.n1 !== 1 || !ev(w.ev1, 7)) diffs.push(`migrated set: listener add ${w.addListener}, ${w.n1} events ${brief(w.ev1)}`);
    else if (w.addConn !== 0 || w.wrote !== 4 || !ev(w.ev2, 8) || w.text !== "ping") diffs.push(`migrated set: connection add ${w.addConn}, event ${brief(w.ev2)}, read ${JSON.stringify(w.text)}`);
    // The design refuses the non-empty set with -EBADFD on both calls. VPP's
    // epoll_wait refuses it with -EINVAL: still a refusal (no hang, no move),
    // but another answer, so named as a difference.
    if (w.ctlFull !== EBADFD || w.waitFull !== EBADFD) {
      const what = w.waitFull === EINVAL && w.ctlFull === EBADFD ? " (refused, with -EINVAL)" : "";
      diffs.push(`non-empty set from the worker: epoll_ctl ${w.ctlFull}, epoll_wait ${w.waitFull}${what}, design -EBADFD for both`);
    }
    if (ctx.backend === "kernel") {
      if (w.migrationsOkAfterUse !== 1 || w.migrationsFailedAfterUse !== 0) diffs.push(`after first use: ${w.migrationsOkAfterUse} migrations ok, ${w.migrationsFailedAfterUse} failed`);
      if (w.migrationsOk !== 1 || w.migrationsFailed !== 2 || w.migrationsTimedOut !== 0 || w.rpcsSent !== 3) diffs.push(`migrations ok/failed/timed out ${w.migrationsOk}/${w.migrationsFailed}/${w.migrationsTimedOut}, RPCs ${w.rpcsSent}`);
      if (!(r.mainRpcsServed >= 3)) diffs.push(`main thread served ${r.mainRpcsServed} RPCs`);
    }
    if (r.connect !== 0 && r.connect !== EINPROGRESS) diffs.push(`owner's connect ${r.connect}`);
    else if (r.nFull !== 1 || !ev(r.fullEvent, 42)) diffs.push(`non-empty set for its owner: ${r.nFull} events ${brief(r.fullEvent)}`);
    return diffs.length ? diffs.join("; ") : null;
  },
};
