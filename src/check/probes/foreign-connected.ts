/** Probes: calls from another worker on a connected session (thread mode). */
import type { Probe, ProbeEvidence, ProbeContext } from "../probe.ts";
import { brief } from "../probe.ts";
import { O_NONBLOCK } from "../../native/abi-constants.ts";

const EBADFD = -77;
const CALLS = ["write", "read", "attr", "shutdown", "close", "accept", "bind", "epollCtl"];

/** The toucher's answers, from its stage line (written before the owner can crash). */
function answers(stages: string[]): Record<string, number> | null {
  const line = stages.find((s) => s.includes("toucher answers: "));
  return line ? JSON.parse(line.slice(line.indexOf("toucher answers: ") + 17)) : null;
}

function judgeForeign(withClose: boolean) {
  return ({ result: r, stages }: ProbeEvidence, ctx: ProbeContext): string | null => {
    if (!r?.owner || !r?.toucher) throw new Error("expected the owner's and the toucher's results");
    const T = r.toucher, O = r.owner;
    const rv = answers(stages) ?? T.rv;
    const expected = CALLS.filter((c) => withClose || c !== "close");
    const wrong = expected.filter((c) => rv[c] !== EBADFD);
    if (wrong.length) return `foreign calls answered ${brief(rv)} (design: EBADFD for each)`;
    if (T.wrk === O.wrk) throw new Error("owner and toucher on one VCL worker in thread mode");
    // The session must be untouched: its pending bytes, both directions, its flags, its close.
    const intact = O.pendingText === "hello" && O.upOk && O.downOk && O.flags === O_NONBLOCK && O.closes.every((c: number) => c === 0);
    if (!intact) return `owner's session after the foreign calls: ${brief({ pending: O.pendingText, up: O.upOk, down: O.downOk, flags: O.flags, closes: O.closes })}`;
    if (ctx.backend === "kernel") {
      // Every migrating call sent one RPC, refused by the polling owner; no dup leaked.
      const migrating = expected.length - 2;
      const got = [T.migrationsOk, T.migrationsFailed, T.migrationsTimedOut, T.rpcsSent];
      if (got.join() !== [0, migrating, 0, migrating].join()) return `clone RPCs ok/failed/timed out/sent ${got.join("/")}`;
      if (T.socketsAfter !== T.socketsBefore) return `sockets ${T.socketsBefore} -> ${T.socketsAfter}: a refused clone leaked its fd`;
    }
    if (T.elapsedMs >= 2000) return `the foreign calls took ${T.elapsedMs} ms (the owner was polling: no RPC should wait out a timeout)`;
    return null;
  };
}

/**
 * Write, read, attr, shutdown, accept, bind and epoll_ctl from worker T on a
 * connected session of worker O: each EBADFD, and O's session intact. On VPP
 * a refused clone frees fifos it shares with O's session, so O's next use
 * touches freed memory (a crash sometimes; the rate depends on the build).
 */
export const foreignConnected: Probe = {
  id: "foreign-connected",
  behaviour: "Calls from another worker on a connected session (write, read, attr, shutdown, accept on its listener, bind, epoll_ctl) each fail with EBADFD and leave the owner's session intact: pending bytes, both directions, flags.",
  kind: "design",
  scenario: "04-foreign-connected",
  args: () => ["thread", "no-close"],
  timeoutMs: 6_000,
  judge: judgeForeign(false),
};

/**
 * The same calls and a close from the other worker. On VPP 24.06 the failed
 * close returns EBADFD with VLS's pool write lock still held, so the owner's
 * next VLS call waits for ever: a hang.
 */
export const foreignConnectedClose: Probe = {
  id: "foreign-connected-close",
  behaviour: "A close from another worker on a connected session fails with EBADFD like the other foreign calls, holds no VLS lock afterwards, and the owner's session stays intact.",
  kind: "design",
  scenario: "04-foreign-connected",
  args: () => ["thread"],
  timeoutMs: 5_000,
  judge: judgeForeign(true),
};
