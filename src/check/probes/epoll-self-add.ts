/** Hazard probe: epoll_ctl ADD of an epoll set to itself. */
import type { Probe } from "../probe.ts";

const EBADFD = -77;

/**
 * vls_epoll_ctl locks the set's session and then the session to add, the
 * same one: a spinlock the thread already holds. VPP 26.10-rc0 spins for
 * ever (a hang); 24.06, with one worker thread, takes no session locks and
 * VCL answers EINVAL. The design answers EBADFD (a set cannot join itself).
 */
export const epollSelfAdd: Probe = {
  id: "epoll-self-add",
  behaviour: "epoll_ctl ADD of an epoll set to itself is refused (EBADFD) and VLS stays usable; it must not spin for ever on the set's own session lock.",
  kind: "hazard",
  scenario: "09-epoll-ctl-bad-handles",
  args: () => ["single", "only", "session is the set"],
  timeoutMs: 6_000,
  judge({ result: r }) {
    if (!r || !("stuck" in r)) throw new Error("expected the only-mode result");
    if (r.stuck) return `never returned: ${r.stuck}`;
    if (r.result !== EBADFD) return `answered ${r.result} (design: EBADFD), next call ${r.next}`;
    if (r.next !== EBADFD) return `VLS not usable after it: the next epoll_ctl on handle -1 answered ${r.next}`;
    return null;
  },
};
