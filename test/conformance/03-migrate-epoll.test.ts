// Behaviour 3 (thread mode): an empty epoll set created on the main thread
// and used in a worker is migrated (one clone RPC, served while the main
// thread polls) and works there: the worker's own listener and connection
// report their events through it. A non-empty set does not migrate: -EBADFD,
// and it keeps working for its owner.
import { describe, expect } from "bun:test";
import { forEachBackend } from "./backends.ts";
import { runScenario } from "./run-scenario.ts";

const EPOLLIN = 1;

forEachBackend((b, t) => {
  describe("03 migrate an empty epoll set", () => {
    t("created on the main thread, used in a worker (thread mode)", async () => {
      const { result: r } = await runScenario<any>("03-migrate-epoll", [b.name, "thread"], 30_000);
      const w = r.worker;
      expect(w.addListener).toBe(0);
      if (b.name === "kernel") {
        expect(w.migrationsOkAfterUse).toBe(1);
        expect(w.migrationsFailedAfterUse).toBe(0);
      }
      // It works: listener readiness, then the connection's data.
      expect(w.n1).toBe(1);
      expect(w.ev1).toEqual({ events: EPOLLIN, data: 7 });
      expect(w.addConn).toBe(0);
      expect(w.wrote).toBe(4);
      expect(w.ev2).toEqual({ events: EPOLLIN, data: 8 });
      expect(w.text).toBe("ping");
      // A non-empty set does not move; both attempts failed cleanly (no timeout).
      // Difference: VPP's epoll_wait on it returns -EINVAL, the embedded
      // model -EBADFD (epoll_ctl: -EBADFD on both).
      expect(w.waitFull).toBe(b.name === "vpp" ? -22 : -77);
      expect(w.ctlFull).toBe(-77);
      if (b.name === "kernel") {
        expect([w.migrationsOk, w.migrationsFailed, w.migrationsTimedOut]).toEqual([1, 2, 0]);
        expect(w.rpcsSent).toBe(3);
        expect(r.mainRpcsServed).toBeGreaterThanOrEqual(3);
      }
      // ...and still serves its owner.
      expect([0, -115 /* EINPROGRESS */]).toContain(r.connect);
      expect(r.nFull).toBe(1);
      expect(r.fullEvent).toEqual({ events: EPOLLIN, data: 42 });
    }, 35_000);
  });
});
