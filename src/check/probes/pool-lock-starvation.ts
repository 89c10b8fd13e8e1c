/** Hazard probe: VLS's pool write lock starved by polling threads (single mode). */
import type { Probe } from "../probe.ts";
import { brief } from "../probe.ts";

const ROUNDS = 300;
const WATCH_MS = 2500;

/**
 * A thread's create and close (the pool write lock) while two other threads
 * of the same VCL worker poll their own epoll sets in a loop (the same lock
 * as readers). With a lock that does not favour writers (VPP before its
 * 2025 "favor writers" change) the writer may wait as long as the polling
 * goes on.
 */
export const poolLockStarvation: Probe = {
  id: "pool-lock-starvation",
  behaviour: `Creating and closing sessions (${ROUNDS} times) on one thread gets through at once while two other threads of the same VCL worker keep polling (single mode): the pool write lock is not starved by the readers.`,
  kind: "hazard",
  scenario: "pool-lock-starvation",
  args: () => ["single", String(ROUNDS), String(WATCH_MS)],
  timeoutMs: 7_000,
  judge({ result: r }) {
    if (r?.rounds !== ROUNDS) throw new Error("expected the writer's rounds");
    if (r.stuck) return `starved: ${r.stuck}`;
    if (r.writer.bad) return `${r.writer.bad} of ${ROUNDS} create+close pairs failed`;
    if (r.writer.maxMs >= 500) return `a create or close waited ${r.writer.maxMs} ms for the pool lock`;
    if (r.pollerWaits.some((n: number) => n < 1)) return `a poller did not poll: ${brief(r.pollerWaits)}`;
    return null;
  },
};
