// Behaviour 1: echo integrity in each mode. The real server with 4 workers;
// 64 connections, each with its own random 64 KiB payload sent in several
// writes; every byte must come back, in order, on its own connection.
import { describe, expect } from "bun:test";
import { forEachBackend } from "./backends.ts";
import { runScenario } from "./run-scenario.ts";

const CONNS = 64;
const SIZE = 64 * 1024;
const sum = (a: number[]) => a.reduce((x, y) => x + y, 0);
forEachBackend((b, t) => {
  describe("01 echo integrity", () => {
    for (const mode of ["single", "thread", "process"])
      t(`${mode} mode, 4 workers x ${CONNS} connections x ${SIZE} B, all bytes verified`, async () => {
        const { result: r } = await runScenario<any>("01-echo-integrity", [b.name, mode, String(CONNS), String(SIZE)], 45_000);
        if (b.name === "vpp") {
          // VPP's VLS: every byte back; VLS's internals have no counters here.
          expect(r.client).toEqual({ ok: true, messages: CONNS, errors: { connect: 0, read: 0, write: 0, verify: 0, timeout: 0, lost: 0, corrupt: 0, duplicated: 0, reordered: 0 }, firstError: null });
          if (mode === "process") expect(r.childPids.length).toBe(4);
          else {
            expect(sum(r.jsAccepted)).toBe(CONNS);
            expect(r.jsBytesOut).toBe(CONNS * SIZE);
            expect(r.jsErrors).toBe(0);
          }
          return;
        }
        expect(r.wrong).toEqual([]);
        expect(r.exact).toBe(CONNS);
        const main = r.native.find((w: any) => w.index === 0);
        const others = r.native.filter((w: any) => w.index !== 0);
        if (mode === "single") {
          expect(sum(r.jsAccepted)).toBe(CONNS);
          expect(r.jsBytesOut).toBe(CONNS * SIZE);
          expect(r.jsErrors).toBe(0);
          expect(r.native.length).toBe(1); // one VCL worker shared by every thread
        } else if (mode === "thread") {
          expect(sum(r.jsAccepted)).toBe(CONNS);
          expect(r.jsBytesOut).toBe(CONNS * SIZE);
          expect(r.jsErrors).toBe(0);
          expect(others.length).toBe(4); // one VCL worker per thread
          // Each worker's epoll set and listener were created by the main
          // thread and migrated on first use.
          for (const w of others) expect([w.migrationsOk, w.migrationsFailed, w.migrationsTimedOut]).toEqual([2, 0, 0]);
          expect(main.rpcsServed).toBeGreaterThanOrEqual(8);
          expect(sum(others.map((w: any) => w.accepts))).toBe(CONNS);
        } else {
          expect(r.forks).toBe(4);
          expect(r.childPids.length).toBe(4);
          expect(others.length).toBe(4); // one VCL worker per forked child
          expect(sum(others.map((w: any) => w.accepts))).toBe(CONNS);
          expect(main.accepts).toBe(0); // the parent only polls
          for (const w of others) expect(w.listenerStarts).toBe(1); // started on the child's epoll ADD
          console.log(`process mode accepts per child: ${others.map((w: any) => w.accepts).join(", ")}`);
        }
      }, 50_000);
  });
});
