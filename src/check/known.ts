/**
 * What vlsbench saw each probe do on the VPP releases it is tested against
 * (a loaded 2-core machine, 2026-12-03: 6 to 10 runs per probe and
 * release, `bun run check` and the runs that wrote the probes), so a
 * report can say "seen before on 26.10-rc0: crash 6/10" and a VPP that no
 * longer shows a hazard stands out.
 * Keyed by probe id, then by VPP release. Data, not expectations: a check
 * never fails because a VPP behaves differently from this.
 */
import type { OutcomeKind } from "./outcome.ts";

/** Outcome counts seen in some number of runs. */
export type Seen = Partial<Record<OutcomeKind, number>>;

export const SEEN_BEFORE: Record<string, Record<string, Seen>> = {
  "echo-integrity-single": { "24.06": { ok: 8, differs: 1 }, "26.10-rc0": { ok: 9 } },
  "echo-integrity-thread": { "24.06": { ok: 9 }, "26.10-rc0": { ok: 9 } },
  "echo-integrity-process": { "24.06": { ok: 9 }, "26.10-rc0": { ok: 9 } },
  "migrate-closed": { "24.06": { ok: 9 }, "26.10-rc0": { ok: 9 } },
  "migrate-epoll": { "24.06": { differs: 9 }, "26.10-rc0": { differs: 9 } },
  "cross-clone": { "24.06": { ok: 4, differs: 2 }, "26.10-rc0": { ok: 6 } },
  "foreign-connected": { "24.06": { crash: 9 }, "26.10-rc0": { crash: 9 } },
  "foreign-connected-close": { "24.06": { hang: 7 }, "26.10-rc0": { crash: 7 } },
  "foreign-close-window": { "24.06": { hang: 7 }, "26.10-rc0": { ok: 6, hang: 1 } },
  "rpc-timeout": { "24.06": { ok: 8 }, "26.10-rc0": { ok: 8 } },
  "epoll-ctl-bad-handles-single": { "24.06": { ok: 7 }, "26.10-rc0": { ok: 7 } },
  "epoll-ctl-bad-handles-thread": { "24.06": { ok: 7 }, "26.10-rc0": { ok: 7 } },
  "process-listeners-vpp": { "24.06": { ok: 9 }, "26.10-rc0": { ok: 9 } },
  "child-killed-vpp": { "24.06": { ok: 9 }, "26.10-rc0": { ok: 9 } },
  "shutdown": { "24.06": { differs: 9 }, "26.10-rc0": { differs: 9 } },
  "epoll-self-add": { "24.06": { differs: 8 }, "26.10-rc0": { differs: 8 } },
  "pool-lock-starvation": { "24.06": { ok: 5, differs: 4 }, "26.10-rc0": { differs: 9 } },
  "close-two-threads": { "24.06": { ok: 10 }, "26.10-rc0": { ok: 4, crash: 6 } },
  "sigchld-process": { "24.06": { crash: 7 }, "26.10-rc0": { ok: 7 } },
  "echo-single-no-workarounds": { "24.06": { crash: 1, ok: 1 }, "26.10-rc0": { differs: 2 } },
  "process-accept-events": { "24.06": { ok: 9 }, "26.10-rc0": { ok: 9 } },

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
