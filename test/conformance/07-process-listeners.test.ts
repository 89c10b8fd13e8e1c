// Behaviour 7: process mode with 3 forked children sharing a listener: every
// child accepts (the split comes from the per-worker accepts counters), and
// epoll DEL + ADD of a listener keeps accepting: in a process-mode parent
// (DEL does not stop anything, the re-ADD starts nothing new), and in a
// single process in every mode.
// The children and owner-add cases run each backend's own scenario: the
// embedded model's reads its listener-start and child-cleanup counters,
// VPP's reads what VPP shows. VPP's install a JS SIGCHLD handler before
// they fork, without which VPP 24.06 kills the parent at the first SIGCHLD
// (pinned in conformance 01).
import { describe, expect } from "bun:test";
import { forEachBackend } from "./backends.ts";
import { runScenario } from "./run-scenario.ts";

const EPOLLIN = 1;

/** f's promise, made on the first call and shared by later ones. */
function once<T>(f: () => Promise<T>): () => Promise<T> {
  let p: Promise<T> | undefined;
  return () => (p ??= f());
}

forEachBackend((b, t) => {
  describe("07 process-mode listeners, epoll DEL + ADD", () => {
    // One run of each backend's children scenario serves the shared case
    // and that backend's own one. The embedded model's scenario reads its
    // listener-start and child-cleanup counters; VPP's (another VCL app as
    // the client) reads what VPP shows: its per-worker accepts and return codes.
    const children = once(() =>
      b.name === "vpp"
        ? runScenario<any>("07-process-listeners-vpp", [b.name, "process"], 80_000).then((x) => x.result)
        : runScenario<any>("07-process-listeners", [b.name, "process", "children"], 40_000).then((x) => x.result),
    );

    t("3 children share a listener: every child accepts, every echo is verified; once they are gone the parent's listener serves alone", async () => {
      const r = await children();
      expect(r.forks).toBe(3);
      if (b.name === "vpp") {
        expect(r.rounds[0].ok).toBe(true); // every byte of the first 30 echoes, served by the children
        expect(r.split.length).toBe(3);
        for (const a of r.split) expect(a).toBeGreaterThan(0);
        expect(r.childrenGone).toBe(true);
        expect(r.alone.firstError).toBeNull();
        expect(r.alone.ok).toBe(true);
        expect(r.alone.parent.accepted).toBe(6);
        return;
      }
      const split = r.distribution.map((w: any) => w.accepts);
      console.log(`07: accepts per child after ${r.connections} connections (bursts of 3): ${split.join(", ")}; after the first 60: ${r.splitAtFirstRound?.join(", ") ?? "n/a"}`);
      expect(r.distribution.length).toBe(3);
      expect(r.exact).toBe(r.connections);
      expect(split.reduce((a: number, x: number) => a + x, 0)).toBe(r.connections);
      for (const w of r.distribution) expect(w.accepts).toBeGreaterThan(0);
      expect(r.childCleanups).toBe(3);
      expect(r.parent.events).toBeGreaterThan(0);
      expect(r.parent.accepted).toBe(3);
      expect(r.parent.acceptsCounter).toBe(3);
    }, 85_000);

    if (b.name === "kernel")
      t("difference: the embedded model's children share one kernel listen socket, so the parent's DEL + ADD strands nothing: ADD starts its listening once, DEL stops nothing, the children serve everything in between", async () => {
        const r = await children();
        for (const w of r.distribution) expect(w.listenerStarts).toBe(1);
        // The parent: its listening was stopped when the children started
        // theirs; ADD starts it (one start), DEL does nothing, ADD again
        // starts nothing new.
        expect(r.parent.startsBefore).toBe(0);
        expect([r.parent.add1, r.parent.del, r.parent.add2]).toEqual([0, 0, 0]);
        expect(r.parent.startsAfterAdd1).toBe(1);
        expect(r.parent.startsAfterAdd2).toBe(1);
        // Between DEL and ADD the children kept serving everything.
        expect(r.afterDel.exact).toBe(r.afterDel.of);
        expect(r.afterDel.childAccepts).toBe(r.afterDel.of);
      }, 45_000);

    if (b.name === "vpp")
      t("difference: VPP hands each connection to one listening worker, so a parent that listens without accepting strands its share; children that exit leave the parent serving", async () => {
        const r = await children();
        console.log(`07 vpp: accepts per child ${r.split.join(", ")}; while the parent listened idle: children ${r.stranded.childAccepts}, stranded at the parent ${r.stranded.parentAccepted}`);
        expect([r.add1, r.del, r.add2]).toEqual([0, 0, 0]);
        // After its ADD the parent listens again, and DEL does not stop it:
        // VPP gives it a share of the 30 new connections, which wait unaccepted
        // (their connects time out) while the children serve the rest.
        expect(r.stranded.parentAccepted).toBeGreaterThan(0);
        expect(r.stranded.errors.connect).toBe(r.stranded.parentAccepted);
        expect(r.stranded.childAccepts + r.stranded.parentAccepted).toBe(30);
        expect(r.stranded.messages).toBe(r.stranded.childAccepts);
        expect([r.closeEp, r.closeListener]).toEqual([0, 0]);
      }, 90_000);

    // The same on both: the embedded model's scenario (kernel-socket clients,
    // its child-cleanup counter) or VPP's (VCL clients, the app reaps).
    t("the owner's ADD right after the children started listening is not undone by their stop request", async () => {
      if (b.name === "vpp") {
        const { result: r } = await runScenario<any>("07-owner-add-vpp", [b.name, "process"], 40_000);
        expect(r.served).toBe(true); // the children listened and served
        expect(r.add).toBe(0);
        expect(r.reaped).toBe(2);
        expect(r.events).toBeGreaterThan(0); // the parent's set reported the listener...
        expect(r.accepted).toBe(3); // ...and every connection reached it
        return;
      }
      const { result: r } = await runScenario<any>("07-process-listeners", [b.name, "process", "owner-add"], 20_000);
      expect(r.add).toBe(0);
      expect(r.childCleanups).toBe(2);
      expect(r.accepted).toBe(true); // the connection reached the listener...
      expect(r.events).toBeGreaterThan(0); // ...and the parent's epoll set reported it
    }, 45_000);

    for (const mode of ["single", "thread", "process"])
      t(`one process: epoll DEL then ADD of a LISTEN session keeps accepting, ${mode} mode`, async () => {
        const { result: r } = await runScenario<any>("07-process-listeners", [b.name, mode, "del-add"], 20_000);
        expect(r.add1).toBe(0);
        expect(r.ev1).toBe(EPOLLIN);
        expect(r.accepted1).toBe(true);
        expect(r.del).toBe(0);
        expect(r.whileDeleted).toBe(0); // not in the set: no event
        expect(r.add2).toBe(0);
        expect(r.ev2).toBe(EPOLLIN); // the connection pending since the DEL
        expect(r.accepted2).toBe(true);
        expect(r.ev3).toBe(EPOLLIN);
        expect(r.accepted3).toBe(true);
        expect(r.afterEmpty).toBe(r.EAGAIN);
      }, 25_000);
  });
});
