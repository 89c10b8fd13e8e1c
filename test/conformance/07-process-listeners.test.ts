// Behaviour 7: process mode with 3 forked children sharing a listener: every
// child accepts (the split comes from the per-worker accepts counters), and
// epoll DEL + ADD of a listener keeps accepting: in a process-mode parent
// (DEL does not stop anything, the re-ADD starts nothing new), and in a
// single process in every mode.
import { describe, expect } from "bun:test";
import { forEachBackend } from "./backends.ts";
import { runScenario } from "./run-scenario.ts";

const EPOLLIN = 1;

forEachBackend((b, t) => {
  describe("07 process-mode listeners, epoll DEL + ADD", () => {
    t("3 children: every child accepts; the parent's DEL + ADD keeps accepting", async () => {
      const { result: r } = await runScenario<any>("07-process-listeners", [b.name, "process", "children"], 40_000);
      const split = r.distribution.map((w: any) => w.accepts);
      console.log(`07: accepts per child after ${r.connections} connections (bursts of 3): ${split.join(", ")}; after the first 60: ${r.splitAtFirstRound?.join(", ") ?? "n/a"}`);
      expect(r.forks).toBe(3);
      expect(r.distribution.length).toBe(3);
      expect(r.exact).toBe(r.connections);
      expect(split.reduce((a: number, x: number) => a + x, 0)).toBe(r.connections);
      for (const w of r.distribution) {
        expect(w.listenerStarts).toBe(1);
        expect(w.accepts).toBeGreaterThan(0);
      }
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
      // After the children are gone, the parent's set reports the listener and it accepts.
      expect(r.childCleanups).toBe(3);
      expect(r.parent.events).toBeGreaterThan(0);
      expect(r.parent.accepted).toBe(3);
      expect(r.parent.acceptsCounter).toBe(3);
    }, 45_000, "it reads the embedded model's listener-start and child-cleanup counters; the VPP variant below checks what VPP shows");

    if (b.name === "vpp")
      t("difference: VPP hands each connection to one listening worker, so a parent that listens without accepting strands its share; children that exit leave the parent serving", async () => {
        const { result: r } = await runScenario<any>("07-process-listeners-vpp", [b.name, "process"], 80_000);
        console.log(`07 vpp: accepts per child ${r.split.join(", ")}; while the parent listened idle: children ${r.stranded.childAccepts}, stranded at the parent ${r.stranded.parentAccepted}`);
        expect(r.forks).toBe(3);
        expect(r.rounds[0].ok).toBe(true); // every byte of the first 30 echoes, served by the children
        expect(r.split.length).toBe(3);
        for (const a of r.split) expect(a).toBeGreaterThan(0);
        expect([r.add1, r.del, r.add2]).toEqual([0, 0, 0]);
        // After its ADD the parent listens again, and DEL does not stop it:
        // VPP gives it a share of the 30 new connections, which wait unaccepted
        // (their connects time out) while the children serve the rest.
        expect(r.stranded.parentAccepted).toBeGreaterThan(0);
        expect(r.stranded.errors.connect).toBe(r.stranded.parentAccepted);
        expect(r.stranded.childAccepts + r.stranded.parentAccepted).toBe(30);
        expect(r.stranded.messages).toBe(r.stranded.childAccepts);
        // Children SIGTERMed: the parent's listener keeps working alone.
        expect(r.childrenGone).toBe(true);
        expect(r.alone.firstError).toBeNull();
        expect(r.alone.ok).toBe(true);
        expect(r.alone.parent.accepted).toBe(6);
        expect([r.closeEp, r.closeListener]).toEqual([0, 0]);
      }, 90_000);

    t("the owner's ADD right after the children started listening is not undone by their stop request", async () => {
      const { result: r } = await runScenario<any>("07-process-listeners", [b.name, "process", "owner-add"], 20_000);
      expect(r.add).toBe(0);
      expect(r.childCleanups).toBe(2);
      expect(r.accepted).toBe(true); // the connection reached the listener...
      expect(r.events).toBeGreaterThan(0); // ...and the parent's epoll set reported it
    }, 25_000, "it reads the embedded model's child-cleanup counters; the VPP variant below checks what VPP shows");

    if (b.name === "vpp")
      t("the owner's ADD right after the children started listening is not undone by their stop request (VPP variant: VCL clients)", async () => {
        const { result: r } = await runScenario<any>("07-owner-add-vpp", [b.name, "process"], 40_000);
        expect(r.served).toBe(true); // the children listened and served
        expect(r.add).toBe(0);
        expect(r.reaped).toBe(2);
        expect(r.events).toBeGreaterThan(0); // the parent's set reported the listener...
        expect(r.accepted).toBe(3); // ...and every connection reached it
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
