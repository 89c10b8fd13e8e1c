// Behaviour 5 (thread mode): two threads cloning each other's sessions at the
// same time, 1,000 rounds: no deadlock, every clone succeeds, no RPC waits
// out its timeout (each thread serves the other's request while it waits
// for the worker-RPC lock).
import { describe, expect } from "bun:test";
import { forEachBackend } from "./backends.ts";
import { runScenario } from "./run-scenario.ts";

const ROUNDS = 1000;

forEachBackend((b, t) => {
  describe("05 cross cloning", () => {
    t(`two threads clone each other's sessions at once, ${ROUNDS} rounds, no deadlock (thread mode)`, async () => {
      const { result: r } = await runScenario<any>("05-cross-clone", [b.name, "thread", String(ROUNDS)], 40_000);
      expect(r.threads.length).toBe(2);
      for (const th of r.threads) {
        expect(th.ok).toBe(ROUNDS);
        expect(th.wrong).toEqual({});
        expect(th.closedOk).toBe(ROUNDS);
        // On VPP a clone now and then waits out the 3 s RPC timeout (24.06,
        // 1 run in ~10 on a loaded machine: "failed to wait rpc response")
        // and still completes: a rate, measured by the cross-clone probe of
        // bun run check, not asserted here. VPP's VLS keeps no migration
        // counters we can read either.
        if (b.name === "vpp") continue;
        expect(th.maxTouchMs).toBeLessThan(1000); // a clone that needed the RPC timeout would show here
        expect([th.migrationsOk, th.migrationsFailed, th.migrationsTimedOut]).toEqual([ROUNDS, 0, 0]);
        expect(th.rpcsSent).toBe(ROUNDS);
        expect(th.rpcsServed).toBeGreaterThanOrEqual(ROUNDS);
      }
      if (b.name === "vpp") return;
      expect(r.migrationsOk).toBe(2 * ROUNDS);
      expect(r.migrationsTimedOut).toBe(0);
      // The rounds really overlapped: the RPC lock was found taken.
      expect(r.contendedRpcLock).toBeGreaterThan(0);
      console.log(`05: ${ROUNDS} rounds in ${r.elapsedMs} ms, worker-RPC lock contended ${r.contendedRpcLock} times`);
    }, 45_000);
  });
});
