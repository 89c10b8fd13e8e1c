/** Hazard probe: a SIGCHLD to a process-mode parent with forked VLS workers. */
import type { Probe } from "../probe.ts";
import { brief } from "../probe.ts";

const WORKERS = 2;

/**
 * A SIGCHLD raised on the main thread of a parent that forked two VLS
 * workers, with no handler of its own installed before the fork. VPP 24.06
 * arms its SIGCHLD intercept again at the second fork and records itself as
 * the handler to chain to, so its handler calls itself until the stack runs
 * out (a crash every time; fixed after 24.06). Runs on every backend
 * (scenario sigchld-process, not the VPP-only 01-sigchld-vpp).
 */
export const sigchldProcess: Probe = {
  id: "sigchld-process",
  behaviour: `A SIGCHLD reaching a process-mode parent that forked ${WORKERS} VLS workers (no handler of its own installed before the fork, no child dead) is harmless: the workers keep serving and are reaped at the end.`,
  kind: "hazard",
  scenario: "sigchld-process",
  args: () => ["process", String(WORKERS)],
  timeoutMs: 8_000,
  judge({ result: r }) {
    if (r?.workers !== WORKERS || r.raiseRv !== 0) throw new Error(`expected ${WORKERS} workers and the signal raised`);
    if (!r.served.ok) return `the workers after the SIGCHLD: ${brief(r.served)}`;
    if (r.gone !== WORKERS) return `${r.gone} of ${WORKERS} workers reaped at the end`;
    return null;
  },
};
