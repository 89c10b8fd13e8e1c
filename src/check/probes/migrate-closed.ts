/** Probe: a CLOSED session created on one thread migrates to the thread that connects it. */
import { brief, type Probe } from "../probe.ts";

const EINPROGRESS = -115, ENOTCONN = -107;

/**
 * Thread mode: thread A creates a session and keeps polling; thread B (its
 * own VCL worker) connects it and moves data both ways. The session is
 * cloned to B (one clone RPC, served by A); A's handle still names A's
 * never-connected clone afterwards.
 */
export const migrateClosed: Probe = {
  id: "migrate-closed",
  behaviour: "A CLOSED session created on one worker thread and connected on another migrates there (a clone, served by the owner's clone RPC): data flows intact both ways, the owner's handle stays its own never-connected clone (read -ENOTCONN).",
  kind: "design",
  scenario: "02-migrate-closed",
  args: () => ["thread"],
  timeoutMs: 8_000,
  judge({ result: r }, ctx) {
    if (!r || typeof r.b !== "object" || typeof r.aWrk !== "number") throw new Error("no thread B result");
    const b = r.b;
    if (b.connectRv !== 0 && b.connectRv !== EINPROGRESS) return `connect on thread B gave ${b.connectRv}`;
    if (b.wrk === r.aWrk) return `thread B got the same VCL worker as A (${b.wrk})`;
    const diffs: string[] = [];
    if (b.upOk !== true || b.downOk !== true) diffs.push(`data A->B ${b.upOk ? "intact" : "wrong"}, B->A ${b.downOk ? "intact" : "wrong"}`);
    if (r.readOnA !== ENOTCONN) diffs.push(`read on A after the migration ${r.readOnA} (not -ENOTCONN: not a clone)`);
    if (b.againOk !== true) diffs.push("B's session stopped working after A's read");
    if (r.closeOnA !== 0) diffs.push(`close on A ${r.closeOnA}`);
    // Only the embedded model counts migrations; VPP's VLS keeps none vlsbench can read.
    if (ctx.backend === "kernel") {
      const want = { migrationsOk: 1, migrationsFailed: 0, migrationsTimedOut: 0, aRpcsServed: 1 };
      if (JSON.stringify(r.mid) !== JSON.stringify(want)) diffs.push(`migration counters ${brief(r.mid)}`);
      if (b.rpcsSent !== 1 || b.migrationsOkAtEnd !== 1) diffs.push(`B sent ${b.rpcsSent} RPCs, ${b.migrationsOkAtEnd} migrations at the end`);
    }
    return diffs.length ? diffs.join("; ") : null;
  },
};
