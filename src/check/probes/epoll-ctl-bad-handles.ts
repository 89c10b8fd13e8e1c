/** Probes: epoll_ctl with bad handles answers EBADFD and leaves no lock held. */
import type { Probe, ProbeEvidence, ProbeContext } from "../probe.ts";
import { brief } from "../probe.ts";
import { O_NONBLOCK } from "../../native/abi-constants.ts";

const EBADFD = -77;
const REPEAT = 50, ROUNDS = 500;
const SHARED_KINDS = ["ep -1", "ep random", "ep closed", "session -1", "session closed", "session closed, DEL"];
const Y_CALLS = ["create", "close", "attr", "epoll_wait", "epoll_ctl ADD", "epoll_ctl DEL"];

function judgeBadHandles(mode: "single" | "thread") {
  return ({ result: r }: ProbeEvidence, ctx: ProbeContext): string | null => {
    if (r?.stuck) return `stuck: ${r.stuck}`;
    if (!r?.x || !r?.y) throw new Error("expected X's and Y's results");
    const wrong = SHARED_KINDS.filter((k) => r.x.results[k] !== EBADFD);
    if (wrong.length) return `bad epoll_ctl answered ${brief(Object.fromEntries(wrong.map((k) => [k, r.x.results[k]])))} (design: EBADFD)`;
    if (Object.keys(r.x.deviations).length) return `answers changed between repeats: ${brief(r.x.deviations)}`;
    if (r.x.bad2 !== 0) return `${r.x.bad2} of ${r.x.calls2} bad calls made concurrently with Y did not answer EBADFD`;
    // Thread mode on VPP: Y's epoll_wait on X's set does not migrate it (a
    // difference of epoll_wait, not of bad handles): left out here.
    const skipWait = ctx.backend === "vpp" && mode === "thread";
    const res = r.y.results;
    const fine = (c: string) => (c === "create" ? res[c] >= 0 : c === "attr" ? res[c] === O_NONBLOCK : c === "epoll_wait" && skipWait ? true : res[c] === 0);
    const failed = Y_CALLS.filter((c) => !fine(c));
    if (failed.length) return `the other thread's calls after the bad ones: ${brief(Object.fromEntries(failed.map((c) => [c, res[c]])))}`;
    const slow = Object.entries(r.y.ms as Record<string, number>).filter(([, ms]) => ms >= 500);
    if (slow.length) return `the other thread waited for a lock after the bad calls: ${brief(Object.fromEntries(slow))} ms`;
    if (!skipWait && r.y.unexpected2) return `${r.y.unexpected2} of ${r.y.calls2} of the other thread's calls failed while the bad calls went on`;
    return null;
  };
}

function probe(mode: "single" | "thread"): Probe {
  return {
    id: `epoll-ctl-bad-handles-${mode}`,
    behaviour: `epoll_ctl with an epoll or session handle that is -1, never used or closed answers EBADFD every time and leaves no VLS lock held: another thread's create, close, attr, epoll_wait and epoll_ctl go through at once, also while the bad calls go on (${mode} mode, 3 threads).`,
    kind: "design",
    scenario: "09-epoll-ctl-bad-handles",
    args: () => [mode, String(REPEAT), String(ROUNDS), "shared"],
    timeoutMs: 12_000,
    judge: judgeBadHandles(mode),
  };
}

/** Bad handles to epoll_ctl, single mode (one VCL worker, three threads: VLS's locks are taken). */
export const epollCtlBadHandlesSingle = probe("single");
/** Bad handles to epoll_ctl, thread mode (a VCL worker per thread). */
export const epollCtlBadHandlesThread = probe("thread");
