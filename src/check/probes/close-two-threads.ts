/** Hazard probe: one session closed from two threads at once (single mode). */
import type { Probe } from "../probe.ts";
import { brief } from "../probe.ts";

const ROUNDS = 40;

/**
 * Two threads, released together, close the same connected session, 40
 * rounds. The design: one close answers 0, the other EBADFD, every round.
 * vlsbench's server avoids this on VPP: 26.10-rc0 was seen crashing in
 * vls_close when it happened.
 */
export const closeTwoThreads: Probe = {
  id: "close-two-threads",
  behaviour: `Two threads closing one session at the same moment (${ROUNDS} rounds, single mode): one close answers 0, the other EBADFD, and nothing crashes.`,
  kind: "hazard",
  scenario: "close-two-threads",
  args: () => ["single", String(ROUNDS)],
  timeoutMs: 8_000,
  judge({ result: r }) {
    if (r?.rounds !== ROUNDS || !r.answers) throw new Error("expected every round's answers");
    const other = Object.entries(r.answers as Record<string, number>).filter(([k]) => k !== "-77,0");
    if (other.length) return `answers of the two closes per round: ${brief(r.answers)} (design: 0 and EBADFD)`;
    if (r.peerCloses["0"] !== ROUNDS) return `the peer sessions' closes: ${brief(r.peerCloses)}`;
    return null;
  },
};
