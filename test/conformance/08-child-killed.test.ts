// Behaviour 8 (process mode): a child killed with SIGKILL is cleaned up on
// the parent's next epoll wait (not in the signal handler), the SIGCHLD
// handler installed before VLS's (a JS process.on("SIGCHLD"), which Bun
// installs as a real sigaction) still runs, nothing deadlocks, and the other
// children keep serving. Two kills in a row: the interception is re-armed.
import { describe, expect } from "bun:test";
import { forEachBackend } from "./backends.ts";
import { runScenario } from "./run-scenario.ts";

/** f's promise, made on the first call and shared by later ones. */
function once<T>(f: () => Promise<T>): () => Promise<T> {
  let p: Promise<T> | undefined;
  return () => (p ??= f());
}

forEachBackend((b, t) => {
  describe("08 a child killed with SIGKILL", () => {
    // One run per backend serves the shared case and that backend's own one.
    // The embedded model's scenario (kernel-socket clients) reads its
    // child-cleanup counters; VPP's (VCL clients) reads what VPP shows.
    const run = once(() =>
      b.name === "vpp"
        ? runScenario<any>("08-child-killed-vpp", [b.name, "process"], 60_000).then((x) => x.result)
        : runScenario<any>("08-child-killed", [b.name, "process"], 40_000).then((x) => x.result),
    );

    t("the earlier SIGCHLD handler runs, the parent's next epoll wait returns promptly, the others keep serving, the victim accepts nothing more", async () => {
      const r = await run();
      const vpp = b.name === "vpp";
      expect(r.forks).toBe(3);
      if (vpp) expect(r.before).toEqual({ ok: true, messages: 18 });
      else expect(r.servedBefore).toBe(9);
      expect(r.kills.length).toBe(2);
      for (const k of r.kills) {
        expect(k.jsHandlerRan).toBeGreaterThanOrEqual(1); // the previous handler was chained
        expect(k.waitRv).toBeGreaterThanOrEqual(0);
        expect(k.waitMs).toBeLessThan(1000); // the next epoll_wait does not hang
        if (vpp) {
          expect(k.served.firstError).toBeNull();
          expect(k.served).toMatchObject({ ok: true, messages: 24 }); // every byte, from the survivors
        } else expect(k.served).toBe(12); // every echo verified by the survivors
        expect(k.victimAcceptsAfter).toBe(0);
        expect(k.survivorsAccepts).toBe(12);
      }
      if (vpp) expect(r.finalStates).toEqual(["gone", "gone", "gone"]);
      else expect(r.lastState).toBe("gone");
    }, 70_000);

    if (b.name === "kernel")
      t("difference: the embedded model cleans the dead child up (and reaps it) on the parent's next epoll wait, not in the signal handler", async () => {
        const r = await run();
        r.kills.forEach((k: any, i: number) => {
          expect(k.victimState).toBe("Z"); // dead, not yet reaped: VLS did nothing in the handler
          expect(k.cleanupsBeforeWait).toBe(0);
          expect(k.cleanupsAfterWait).toBe(1); // the next epoll_wait cleaned it up
          expect(k.reaped).toBe(true);
          expect(k.survivors).toBe(2 - i);
        });
        expect(r.childCleanups).toBe(3); // the last one, SIGTERMed, too
      }, 45_000);

    if (b.name === "vpp")
      t("difference: VPP's VLS chains the earlier SIGCHLD handler and drops the dead child's worker, but never reaps it (the app does: vlsb_reap_children)", async () => {
        const r = await run();
        for (const k of r.kills) expect(k.stateAfterWait).toBe("Z"); // not reaped by VLS
        expect(r.reapedByApp).toBe(3);
      }, 70_000);
  });
});
