// Behaviour 8 (process mode): a child killed with SIGKILL is cleaned up on
// the parent's next epoll wait (not in the signal handler), the SIGCHLD
// handler installed before VLS's (a JS process.on("SIGCHLD"), which Bun
// installs as a real sigaction) still runs, nothing deadlocks, and the other
// children keep serving. Two kills in a row: the interception is re-armed.
import { describe, expect } from "bun:test";
import { forEachBackend } from "./backends.ts";
import { runScenario } from "./run-scenario.ts";

forEachBackend((b, t) => {
  describe("08 a child killed with SIGKILL", () => {
    t("cleaned on the parent's next epoll wait; earlier SIGCHLD handler runs; others keep serving", async () => {
      const { result: r } = await runScenario<any>("08-child-killed", [b.name, "process"], 40_000);
      expect(r.forks).toBe(3);
      expect(r.servedBefore).toBe(9);
      expect(r.kills.length).toBe(2);
      r.kills.forEach((k: any, i: number) => {
        expect(k.victimState).toBe("Z"); // dead, not yet reaped: VLS did nothing in the handler
        expect(k.jsHandlerRan).toBeGreaterThanOrEqual(1); // the previous handler was chained
        expect(k.cleanupsBeforeWait).toBe(0);
        expect(k.waitRv).toBeGreaterThanOrEqual(0);
        expect(k.cleanupsAfterWait).toBe(1); // the next epoll_wait cleaned it up
        expect(k.reaped).toBe(true);
        expect(k.waitMs).toBeLessThan(1000);
        expect(k.served).toBe(12); // every echo verified by the survivors
        expect(k.victimAcceptsAfter).toBe(0);
        expect(k.survivors).toBe(2 - i);
        expect(k.survivorsAccepts).toBe(12);
      });
      expect(r.childCleanups).toBe(3); // the last one, SIGTERMed, too
      expect(r.lastState).toBe("gone");
    }, 45_000, "it reads the embedded model's child-cleanup counters; the VPP variant below checks what VPP shows");

    if (b.name === "vpp")
      t("difference: VPP's VLS chains the earlier SIGCHLD handler and drops the dead child's worker, but never reaps it (the app does: vlsb_reap_children)", async () => {
        const { result: r } = await runScenario<any>("08-child-killed-vpp", [b.name, "process"], 60_000);
        expect(r.forks).toBe(3);
        expect(r.before).toEqual({ ok: true, messages: 18 });
        expect(r.kills.length).toBe(2);
        for (const k of r.kills) {
          expect(k.jsHandlerRan).toBeGreaterThanOrEqual(1); // the earlier (JS) handler still runs
          expect(k.waitRv).toBeGreaterThanOrEqual(0);
          expect(k.waitMs).toBeLessThan(1000); // the next epoll_wait does not hang
          expect(k.stateAfterWait).toBe("Z"); // not reaped by VLS
          expect(k.served.firstError).toBeNull();
          expect(k.served).toMatchObject({ ok: true, messages: 24 }); // every byte, from the survivors
          expect(k.victimAcceptsAfter).toBe(0);
          expect(k.survivorsAccepts).toBe(12);
        }
        expect(r.reapedByApp).toBe(3);
        expect(r.finalStates).toEqual(["gone", "gone", "gone"]);
      }, 70_000);
  });
});
