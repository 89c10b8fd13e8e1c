/** Probe: two workers cloning each other's sessions at once must not deadlock. */
import type { Probe } from "../probe.ts";

const ROUNDS = 300;

/** Both threads clone the other's CLOSED session every round; the worker-RPC lock is taken by trylock, so neither waits out an RPC timeout. */
export const crossClone: Probe = {
  id: "cross-clone",
  behaviour: `Two worker threads cloning each other's sessions at the same moment (${ROUNDS} rounds) never deadlock: each serves the other's clone RPC while waiting for its own (the worker-RPC trylock).`,
  kind: "design",
  scenario: "05-cross-clone",
  args: () => ["thread", String(ROUNDS)],
  timeoutMs: 20_000,
  judge({ result: r }) {
    if (!Array.isArray(r.threads) || r.threads.length !== 2) throw new Error("expected two threads");
    const bad = r.threads.filter((t: any) => t.ok !== ROUNDS || t.closedOk !== ROUNDS || Object.keys(t.wrong).length > 0);
    if (bad.length) return `clones completed ${r.threads.map((t: any) => t.ok).join("/")} of ${ROUNDS}, wrong answers ${JSON.stringify(r.threads.map((t: any) => t.wrong))}`;
    const slow = Math.max(...r.threads.map((t: any) => t.maxTouchMs));
    // An RPC that waited out VLS's timeout (3 s on VPP, set per app on the
    // embedded model) is the deadlock being resolved by the timeout.
    if (slow >= 1000) return `a clone took ${slow} ms (an RPC waited out its timeout: the cross-clone deadlock)`;
    return null;
  },
};
