// Behaviour 2 (thread mode): a CLOSED session created on thread A, connected
// and used on thread B while A polls: data intact, exactly one migration
// (one clone RPC, served by A). Migration is a clone, not a move: A reading
// the handle afterwards gets its own never-connected clone (-ENOTCONN), and
// B's session keeps working without another RPC.
import { describe, expect } from "bun:test";
import { forEachBackend } from "./backends.ts";
import { runScenario } from "./run-scenario.ts";

forEachBackend((b, t) => {
  describe("02 migrate a CLOSED session", () => {
    t("created on thread A, connected and used on thread B (thread mode)", async () => {
      const { result: r } = await runScenario<any>("02-migrate-closed", [b.name, "thread"], 30_000);
      expect([0, -115 /* EINPROGRESS */]).toContain(r.b.connectRv);
      expect(r.b.upOk).toBe(true);
      expect(r.b.downOk).toBe(true);
      expect(r.b.wrk).not.toBe(r.aWrk);
      // One migration, by B, one RPC sent and served by A; nothing failed.
      // (VPP's VLS keeps no migration counters vlsbench can read.)
      if (b.name === "kernel") {
        expect(r.mid).toEqual({ migrationsOk: 1, migrationsFailed: 0, migrationsTimedOut: 0, aRpcsServed: 1 });
        expect(r.b.migrationsOk).toBe(1);
        expect(r.b.rpcsSent).toBe(1);
        expect(r.b.migrationsOkAtEnd).toBe(1);
      }
      // A clone, not a move.
      expect(r.readOnA).toBe(-107);
      expect(r.b.againOk).toBe(true);
      expect(r.closeOnA).toBe(0);
    }, 35_000);
  });
});
