// Behaviour 6 (thread mode, rpc_timeout_ms=500): a clone RPC to a worker that
// never polls (blocked in Atomics.wait) fails after about the RPC timeout with
// -EBADFD, counted as timed out; the owner's session is intact afterwards,
// and the late requests it drains are discarded (no fd dup'ed for them).
import { describe, expect } from "bun:test";
import { forEachBackend } from "./backends.ts";
import { runScenario } from "./run-scenario.ts";

const TIMEOUT_MS = 500;

forEachBackend((b, t) => {
  describe("06 clone RPC timeout", () => {
    t(`an owner that never polls: -EBADFD after ~${TIMEOUT_MS} ms, owner's session intact (thread mode)`, async () => {
      const { result: r } = await runScenario<any>("06-rpc-timeout", [b.name, "thread", String(TIMEOUT_MS)], 30_000);
      const T = r.toucher, O = r.owner;
      for (const call of [T.attr, T.connect]) {
        expect(call.rv).toBe(-77);
        expect(call.ms).toBeGreaterThanOrEqual(400);
        expect(call.ms).toBeLessThanOrEqual(3000);
      }
      expect([T.migrationsOk, T.migrationsFailed, T.migrationsTimedOut, T.rpcsSent]).toEqual([0, 0, 2, 2]);
      // The owner was really blocked the whole time, then woken by the toucher.
      expect(O.waited).toBe("ok");
      // Its session: untouched flags (non-blocking), connects, carries data.
      expect(O.flags).toBe(0o4000);
      expect([0, -115 /* EINPROGRESS */]).toContain(O.connect);
      expect(O.dataOk).toBe(true);
      expect(O.migrationsOk).toBe(0);
      // The two late requests were drained and discarded: no stray dup.
      expect(O.rpcsServed).toBe(2);
      expect(O.sockets).toBe(3);
    }, 35_000, "rpc_timeout_ms is the embedded model's option (VPP's clone RPC timeout is fixed); connects to its own listener with a blocking connect, which hangs on VPP (same app); needs connectedPair or a peer app");
  });
});
