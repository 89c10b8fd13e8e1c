/**
 * What vlsbench saw each probe do on the VPP releases it is tested against
 * (runs on a 2-core machine, 2026-12), so a report can say "seen before on
 * 26.10-rc0: crash 3/5" and a VPP that no longer shows a hazard stands out.
 * Keyed by probe id, then by VPP release. Data, not expectations: a check
 * never fails because a VPP behaves differently from this.
 */
import type { OutcomeKind } from "./outcome.ts";

/** Outcome counts seen in some number of runs. */
export type Seen = Partial<Record<OutcomeKind, number>>;

export const SEEN_BEFORE: Record<string, Record<string, Seen>> = {
  "echo-integrity-single": { "24.06": { ok: 3, differs: 1 }, "26.10-rc0": { ok: 4 } },
  "echo-integrity-thread": { "24.06": { ok: 4 }, "26.10-rc0": { ok: 4 } },
  "echo-integrity-process": { "24.06": { ok: 4 }, "26.10-rc0": { ok: 4 } },
  "migrate-closed": { "24.06": { ok: 4 }, "26.10-rc0": { ok: 4 } },
  "migrate-epoll": { "24.06": { differs: 4 }, "26.10-rc0": { differs: 4 } },
  "process-listeners-vpp": { "24.06": { ok: 4 }, "26.10-rc0": { ok: 4 } },
  "child-killed-vpp": { "24.06": { ok: 4 }, "26.10-rc0": { ok: 4 } },
  "shutdown": { "24.06": { differs: 4 }, "26.10-rc0": { differs: 4 } },
  "process-accept-events": { "24.06": { ok: 4 }, "26.10-rc0": { ok: 4 } },
  "cross-clone": { "24.06": { ok: 1 }, "26.10-rc0": { ok: 1 } },
  "foreign-connected": { "24.06": { crash: 4 }, "26.10-rc0": { crash: 4 } },
  "foreign-connected-close": { "24.06": { hang: 2 }, "26.10-rc0": { crash: 2 } },
  "foreign-close-window": { "24.06": { hang: 2 }, "26.10-rc0": { ok: 2 } },
  "rpc-timeout": { "24.06": { ok: 3 }, "26.10-rc0": { ok: 3 } },
  "epoll-ctl-bad-handles-single": { "24.06": { ok: 2 }, "26.10-rc0": { ok: 2 } },
  "epoll-ctl-bad-handles-thread": { "24.06": { ok: 2 }, "26.10-rc0": { ok: 2 } },
  "epoll-self-add": { "24.06": { differs: 3 }, "26.10-rc0": { differs: 3 } },
  "pool-lock-starvation": { "24.06": { ok: 3, differs: 1 }, "26.10-rc0": { differs: 4 } },
  "close-two-threads": { "24.06": { ok: 5 }, "26.10-rc0": { ok: 3, crash: 2 } },
  "sigchld-process": { "24.06": { crash: 2 }, "26.10-rc0": { ok: 2 } },
};

/** "crash 3/5, ok 2/5" for a release, or "" when nothing was recorded. */
export function seenBefore(probe: string, version: string): string {
  const s = SEEN_BEFORE[probe]?.[version];
  if (!s) return "";
  const n = Object.values(s).reduce((a, b) => a + (b ?? 0), 0);
  return Object.entries(s)
    .sort((a, b) => (b[1] ?? 0) - (a[1] ?? 0))
    .map(([k, c]) => `${k} ${c}/${n}`)
    .join(", ");
}

/** The outcome seen most before on that release (null when none was recorded). */
export function usualOutcome(probe: string, version: string): OutcomeKind | null {
  const s = SEEN_BEFORE[probe]?.[version];
  if (!s) return null;
  return (Object.entries(s).sort((a, b) => (b[1] ?? 0) - (a[1] ?? 0))[0]?.[0] as OutcomeKind) ?? null;
}
