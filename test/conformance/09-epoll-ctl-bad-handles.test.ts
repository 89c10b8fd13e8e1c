// Behaviour 9: epoll_ctl with a bad epoll handle or a bad session handle
// returns -EBADFD and leaves no lock held: right after the bad calls (and
// while they keep coming, concurrently), another thread's calls that need
// the pool, session, spool and mq locks proceed at once. Single mode with
// several threads (so the locks are really taken) and thread mode (where a
// set that cannot migrate and a session of another worker are bad too).
//
// The first case holds on both backends (the bad handles both answer alike).
// The embedded model answers every other bad call EBADFD as well; VPP's VLS
// answers some otherwise, hangs in one and (24.06) breaks a lock in another:
// each of those is made alone ("only") and pinned per VPP version.
//
// Not asserted: in single mode VPP's VLS can keep a thread waiting for a
// lock (the pool write lock of create/close, the message-queue lock of
// epoll_wait) for as long as other threads keep taking it, e.g. while two
// threads poll. How long depends on timing, so it is no fixed outcome: the
// threads here do not poll VLS while the other one works, and the starvation
// itself is for a probe to measure (bun run check, to be built).
import { describe, expect } from "bun:test";
import { forEachBackend, type ConformanceBackend } from "./backends.ts";
import { runScenario } from "./run-scenario.ts";
import { O_NONBLOCK } from "../../src/native/abi-constants.ts";

const EBADFD = -77, EINVAL = -22;
const REPEAT = 200, ROUNDS = 3000;
const SHARED_KINDS = ["ep -1", "ep random", "ep closed", "session -1", "session closed", "session closed, DEL"];

/** X's bad call KIND alone (then an epoll_ctl on -1), watched for 3 s each. */
async function only(b: ConformanceBackend, mode: string, kind: string, helper: boolean) {
  const argv = [b.name, mode, "only", kind, ...(helper ? ["helper"] : [])];
  return (await runScenario<any>("09-epoll-ctl-bad-handles", argv, 20_000)).result;
}
const hangOf = (kind: string) => new RegExp(`^X's bad call: not done after 3000 ms, X inside "${kind.replace(/[()]/g, "\\$&")}"$`);

forEachBackend((b, t) => {
  describe("09 epoll_ctl with bad handles", () => {
    const onVpp = b.name === "vpp";
    for (const mode of ["single", "thread"])
      t(`EBADFD for an epoll or session handle that is -1, never used or closed; no lock left held, ${mode} mode (3 threads)`, async () => {
        const { result: r } = await runScenario<any>("09-epoll-ctl-bad-handles", [b.name, mode, String(REPEAT), String(ROUNDS), "shared"], 40_000);
        expect(r.stuck).toBeNull(); // no hang: neither the bad calls nor Y's calls, nor concurrently
        expect(Object.keys(r.x.results)).toEqual(SHARED_KINDS);
        for (const k of SHARED_KINDS) expect(`${k}: ${r.x.results[k]}`).toBe(`${k}: ${EBADFD}`);
        expect(r.x.deviations).toEqual({}); // the same answer every time
        // The other thread's calls went through at once, with the right results.
        expect(r.y.results.create).toBeGreaterThanOrEqual(0);
        expect(r.y.results.close).toBe(0);
        expect(r.y.results.attr).toBe(O_NONBLOCK);
        // VPP, thread mode: Y's epoll_wait on X's set, see the VPP case below.
        if (!(onVpp && mode === "thread")) expect(r.y.results.epoll_wait).toBe(0);
        expect(r.y.results["epoll_ctl ADD"]).toBe(0);
        expect(r.y.results["epoll_ctl DEL"]).toBe(0);
        for (const [call, ms] of Object.entries(r.y.ms)) expect(`${call} ${ms as number < 500 ? "fast" : `took ${ms} ms`}`).toBe(`${call} fast`);
        // Concurrently: every bad call still EBADFD, every call of Y's fine.
        // On VPP the closed handles are left out here: VPP reuses a closed
        // handle's number at once, so it may name a session Y just created.
        expect(r.x.kinds2).toBe(onVpp ? 3 : 6);
        expect(r.x.bad2).toBe(0);
        expect(r.x.calls2).toBe(ROUNDS * r.x.kinds2);
        expect(r.y.calls2).toBe(ROUNDS * 6);
        if (!(onVpp && mode === "thread")) expect(r.y.unexpected2).toBe(0);
        if (mode === "single") expect(r.x.wrk).toBe(r.y.wrk); // one VCL worker shared
        else expect(r.x.wrk).not.toBe(r.y.wrk);
      }, 45_000);

    if (b.name === "kernel")
      for (const mode of ["single", "thread"])
        t(`embedded model: every bad epoll_ctl (also a plain session as the set, the set itself as the session${mode === "thread" ? ", a set that cannot migrate, a session of another worker" : ""}) EBADFD, no lock left held, ${mode} mode (3 threads)`, async () => {
          const { result: r } = await runScenario<any>("09-epoll-ctl-bad-handles", [b.name, mode, String(REPEAT), String(ROUNDS), "all"], 40_000);
          expect(r.stuck).toBeNull();
          const kinds = Object.keys(r.x.results);
          expect(kinds.length).toBe(mode === "thread" ? 10 : 8);
          for (const k of kinds) expect(`${k}: ${r.x.results[k]}`).toBe(`${k}: ${EBADFD}`);
          expect(r.x.deviations).toEqual({});
          expect(r.y.results.close).toBe(0);
          expect(r.y.results.attr).toBe(O_NONBLOCK);
          expect(r.y.results.epoll_wait).toBe(0);
          expect(r.y.results["epoll_ctl ADD"]).toBe(0);
          expect(r.y.results["epoll_ctl DEL"]).toBe(0);
          expect(r.y.allExpected).toBe(true);
          for (const [call, ms] of Object.entries(r.y.ms)) expect(`${call} ${ms as number < 500 ? "fast" : `took ${ms} ms`}`).toBe(`${call} fast`);
          expect(r.x.bad2).toBe(0);
          expect(r.x.calls2).toBeGreaterThan(ROUNDS * 8 - 1);
          expect(r.y.unexpected2).toBe(0);
          expect(r.y.calls2).toBe(ROUNDS * 6);
        }, 45_000);

    if (onVpp) {
      const gen = b.vls;
      for (const mode of ["single", "thread"])
        t(`difference on VPP: a plain session as the epoll handle gives EINVAL (embedded: EBADFD), VLS usable after it, ${mode} mode`, async () => {
          const r = await only(b, mode, "ep is a plain session", true);
          expect(r.stuck).toBeNull();
          expect([r.result, r.next]).toEqual([EINVAL, EBADFD]);
        }, 25_000);

      t("difference on VPP: a session of another worker is cloned into the caller's worker and added: 0 (embedded: EBADFD), thread mode", async () => {
        const r = await only(b, "thread", "session of another worker", true);
        expect(r.stuck).toBeNull();
        expect([r.result, r.next]).toEqual([0, EBADFD]);
      }, 25_000);

      // VLS's epoll_wait passes no session to its migration guard, so it does
      // not migrate another worker's set: it waits on the caller's own VCL
      // session with the set's index, which here is not a set (EINVAL) or no
      // session (EBADFD); which one depends on VCL's pool layout. Only Y's
      // epoll_ctl ADD migrates the set (an empty set may), and X's next
      // calls take it back, so in phase 2 some of Y's waits fail too.
      t("difference on VPP: an epoll_wait on another worker's empty set does not migrate it and fails, thread mode (3 threads)", async () => {
        const { result: r } = await runScenario<any>("09-epoll-ctl-bad-handles", [b.name, "thread", String(REPEAT), String(ROUNDS), "shared"], 40_000);
        expect(r.stuck).toBeNull();
        expect([EINVAL, EBADFD]).toContain(r.y.results.epoll_wait);
        expect(r.y.unexpected2).toBeLessThan(ROUNDS); // at most some of the waits (one call in six)
      }, 45_000);

      if (gen === "24.06")
        t("difference on VPP 24.06: a set that cannot migrate gives EBADFD but leaves VLS's pool lock broken: the next epoll_ctl never returns, thread mode", async () => {
          // The failed migration of a non-empty set releases the pool read
          // lock, and vls_epoll_ctl releases it once more on that error path;
          // the reader count goes below zero, which the rwlock reads as held
          // by a writer. (After the 2025 rework VLS records which locks a
          // thread holds and releases only those.)
          const r = await only(b, "thread", "ep cannot migrate (non-empty, other worker)", true);
          expect(r.result).toBe(EBADFD);
          expect(r.stuck).toBe("X's next call: not done after 3000 ms");
        }, 25_000);
      else
        t(`difference on VPP ${b.version || "26.10-rc0"}: a set that cannot migrate gives EBADFD, VLS usable after it (embedded: EBADFD), thread mode`, async () => {
          const r = await only(b, "thread", "ep cannot migrate (non-empty, other worker)", true);
          expect(r.stuck).toBeNull();
          expect([r.result, r.next]).toEqual([EBADFD, EBADFD]);
        }, 25_000);

      // ADD of a set to itself: vls_epoll_ctl locks the set's VLS session,
      // then the session to add, the same one: a spinlock the thread already
      // holds, so it spins for ever, whenever VLS takes per-session locks.
      for (const mode of ["single", "thread"]) {
        if (gen === "24.06") {
          // 24.06 takes them only once more than one thread besides the
          // app's first registered; with one, the call reaches VCL, which
          // refuses a set added to itself with EINVAL.
          t(`difference on VPP 24.06: an epoll_ctl ADD of a set to itself with one worker thread gives EINVAL (embedded: EBADFD), ${mode} mode`, async () => {
            const r = await only(b, mode, "session is the set", false);
            expect(r.stuck).toBeNull();
            expect([r.result, r.next]).toEqual([EINVAL, EBADFD]);
          }, 25_000);
          t(`difference on VPP 24.06: an epoll_ctl ADD of a set to itself with two worker threads never returns (embedded: EBADFD), ${mode} mode`, async () => {
            const r = await only(b, mode, "session is the set", true);
            expect(r.stuck).toMatch(hangOf("session is the set"));
          }, 25_000);
        } else {
          // After the rework any thread that calls in switches the locks on.
          for (const helper of [false, true])
            t(`difference on VPP ${b.version || "26.10-rc0"}: an epoll_ctl ADD of a set to itself never returns, ${helper ? "two worker threads" : "one worker thread"} (embedded: EBADFD), ${mode} mode`, async () => {
              const r = await only(b, mode, "session is the set", helper);
              expect(r.stuck).toMatch(hangOf("session is the set"));
            }, 25_000);
        }
      }
    }
  });
});
