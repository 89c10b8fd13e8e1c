/** Probe: a clone RPC to a worker that never polls, and the late request. */
import type { Probe } from "../probe.ts";
import { brief } from "../probe.ts";
import { O_NONBLOCK } from "../../native/abi-constants.ts";

const EBADFD = -77;
const KERNEL_TIMEOUT_MS = 500;
const VPP_TIMEOUT_MS = 3000; // VPP's clone RPC timeout is fixed; it ignores the app option

/**
 * Worker T's attr and connect on a CLOSED session of worker O, blocked
 * outside VLS: each fails with EBADFD after the RPC timeout. O wakes, its
 * session is intact, and the two late requests it drains are discarded. On
 * VPP the requester frees the session it allocated for the clone when it
 * gives up, and O's late answer copies into it (a crash sometimes).
 */
export const rpcTimeout: Probe = {
  id: "rpc-timeout",
  behaviour: "A clone RPC to a worker that does not poll fails with EBADFD after the RPC timeout; the owner's session is intact when it wakes, and the late request it then serves is discarded.",
  kind: "design",
  scenario: "06-rpc-timeout",
  args: (ctx) => ["thread", String(ctx.backend === "kernel" ? KERNEL_TIMEOUT_MS : VPP_TIMEOUT_MS)],
  timeoutMs: 10_000,
  judge({ result: r }, ctx) {
    if (!r?.owner || !r?.toucher) throw new Error("expected the owner's and the toucher's results");
    const T = r.toucher, O = r.owner;
    const timeout = ctx.backend === "kernel" ? KERNEL_TIMEOUT_MS : VPP_TIMEOUT_MS;
    for (const [name, call] of [["attr", T.attr], ["connect", T.connect]] as const) {
      if (call.rv !== EBADFD) return `the foreign ${name} answered ${call.rv} in ${call.ms} ms (design: EBADFD)`;
      if (call.ms < timeout * 0.8) return `the foreign ${name} failed after ${call.ms} ms, before the ${timeout} ms timeout`;
      if (call.ms > timeout * 3 + 500) return `the foreign ${name} took ${call.ms} ms (timeout ${timeout} ms)`;
    }
    if (O.waited !== "ok") throw new Error(`the owner was not woken by the toucher (${O.waited})`);
    if (!O.dataOk || O.flags !== O_NONBLOCK) return `the owner's session afterwards: ${brief({ flags: O.flags, connect: O.connect, data: O.dataOk })}`;
    if (ctx.backend === "kernel") {
      if (O.rpcsServed !== 2 || O.sockets !== 3) return `late requests: ${O.rpcsServed} served, ${O.sockets} sockets (design: discarded, nothing dup'ed)`;
    }
    return null;
  },
};
