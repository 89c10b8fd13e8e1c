/** Probe: a foreign close that cannot migrate, while the owner keeps reading. */
import type { Probe } from "../probe.ts";
import { brief } from "../probe.ts";

const EBADFD = -77, EAGAIN = -11;

/**
 * Worker T closes a connected session of worker O while O reads it in a loop
 * without polling: the close waits out the clone RPC timeout and fails with
 * EBADFD; O's reads see its live session (EAGAIN), never EBADFD, and it
 * carries data afterwards. On VPP 24.06 the run never ends: the reads starve
 * the close of VLS's pool write lock, or the close leaves it held.
 */
export const foreignCloseWindow: Probe = {
  id: "foreign-close-window",
  behaviour: "A close from another worker on a session whose owner keeps reading (not polling) fails with EBADFD after the clone RPC timeout, and the owner's reads and data meanwhile and afterwards are undisturbed.",
  kind: "design",
  scenario: "04-foreign-connected",
  // rpc_timeout_ms=300 is the embedded model's; VPP's clone RPC timeout is a fixed 3 s.
  args: () => ["thread", "close-window"],
  timeoutMs: 10_000,
  judge({ result: r }, ctx) {
    if (!r?.owner || !r?.closer) throw new Error("expected the owner's and the closer's results");
    const C = r.closer, O = r.owner;
    const rpcMs = ctx.backend === "kernel" ? 300 : 3000;
    if (C.close !== EBADFD) return `the foreign close answered ${C.close} in ${C.ms} ms (design: EBADFD)`;
    if (C.ms < rpcMs * 0.8) return `the foreign close failed after ${C.ms} ms, before the ${rpcMs} ms RPC timeout (the owner was not polling)`;
    const badReads = Object.keys(O.reads).filter((k) => k !== String(EAGAIN) && k !== "data");
    if (badReads.length || !O.reads[String(EAGAIN)]) return `the owner's reads meanwhile: ${brief(O.reads)} (design: EAGAIN only)`;
    if (!O.after || O.closes.some((c: number) => c !== 0)) return `the owner's session afterwards: ${brief({ data: O.after, closes: O.closes })}`;
    return null;
  },
};
