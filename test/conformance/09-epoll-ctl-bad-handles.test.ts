// Behaviour 9: epoll_ctl with a bad epoll handle or a bad session handle
// returns -EBADFD and leaves no lock held: right after the bad calls (and
// while they keep coming, concurrently), another thread's calls that need
// the pool, session, spool and mq locks proceed at once. Single mode with
// several threads (so the locks are really taken) and thread mode (where a
// set that cannot migrate and a session of another worker are bad too).
import { describe, expect } from "bun:test";
import { forEachBackend } from "./backends.ts";
import { runScenario } from "./run-scenario.ts";

const EBADFD = -77;
const REPEAT = 200, ROUNDS = 3000;

forEachBackend((b, t) => {
  describe("09 epoll_ctl with bad handles", () => {
    for (const mode of ["single", "thread"])
      t(`EBADFD and no lock left held, ${mode} mode (3 threads)`, async () => {
        const { result: r } = await runScenario<any>("09-epoll-ctl-bad-handles", [b.name, mode, String(REPEAT), String(ROUNDS)], 40_000);
        expect(r.stuck).toBeNull();
        const kinds = Object.keys(r.x.results);
        expect(kinds.length).toBe(mode === "thread" ? 10 : 8);
        for (const k of kinds) expect(`${k}: ${r.x.results[k]}`).toBe(`${k}: ${EBADFD}`);
        expect(r.x.deviations).toEqual({}); // the same answer every time
        // The other thread's calls went through at once, with the right results.
        expect(r.y.results.close).toBe(0);
        expect(r.y.results.attr).toBe(0o4000);
        expect(r.y.results.epoll_wait).toBe(0);
        expect(r.y.results["epoll_ctl ADD"]).toBe(0);
        expect(r.y.results["epoll_ctl DEL"]).toBe(0);
        expect(r.y.allExpected).toBe(true);
        for (const [call, ms] of Object.entries(r.y.ms)) expect(`${call} ${ms as number < 500 ? "fast" : `took ${ms} ms`}`).toBe(`${call} fast`);
        // Concurrently: every bad call still EBADFD, every good call fine.
        expect(r.x.bad2).toBe(0);
        expect(r.x.calls2).toBeGreaterThan(ROUNDS * 8 - 1);
        expect(r.y.unexpected2).toBe(0);
        expect(r.y.calls2).toBe(ROUNDS * 6);
        if (mode === "single") expect(r.x.wrk).toBe(r.y.wrk); // one VCL worker shared
        else expect(r.x.wrk).not.toBe(r.y.wrk);
      }, 45_000, "VPP's answers differ and some calls hang: the VPP cases below pin them");

    if (b.name === "vpp") {
      for (const mode of ["single", "thread"])
        t(`difference: an epoll_ctl ADD of a set to itself never returns on VPP (embedded: EBADFD), ${mode} mode`, async () => {
          const { result: r } = await runScenario<any>("09-epoll-ctl-bad-handles", [b.name, mode, "only", "session is the set"], 20_000);
          expect(r.stuck).toMatch(/^X's bad calls: not done after 3000 ms, X inside "session is the set"$/);
        }, 25_000);

      t("difference: VPP's answers to the other bad epoll_ctl calls, thread mode (3 threads)", async () => {
        const { result: r } = await runScenario<any>("09-epoll-ctl-bad-handles", [b.name, "thread", String(REPEAT), String(ROUNDS)], 40_000);
        expect(r.stuck).toBeNull(); // no hang, concurrently either
        // A closed session's handle: EBADFD, or once in about ten runs EINVAL.
        // VPP reuses a closed handle's number at once (no generation, unlike
        // the embedded model), so it may name a session Y created meanwhile.
        const closedAnswers = [r.x.results["session closed"], r.x.results["session closed, DEL"]];
        for (const a of closedAnswers) expect([EBADFD, -22]).toContain(a);
        expect({ ...r.x.results, "session closed": 0, "session closed, DEL": 0 }).toEqual({
          "ep -1": EBADFD,
          "ep random": EBADFD,
          "ep is a plain session": -22, // EINVAL
          "session -1": EBADFD,
          "session closed": 0,
          "session closed, DEL": 0,
          "ep cannot migrate (non-empty, other worker)": EBADFD,
          "session of another worker": 0, // VLS clones it into X's worker and adds it
        });
        // Y on X's set, which now holds a session: wait EINVAL, ctl EBADFD
        // (a non-empty set does not migrate); its own calls fine.
        expect(r.y.results).toMatchObject({ close: 0, attr: 0o4000, epoll_wait: -22, "epoll_ctl ADD": EBADFD, "epoll_ctl DEL": EBADFD });
        expect(r.y.results.create).toBeGreaterThanOrEqual(0);
        for (const [call, ms] of Object.entries(r.y.ms)) expect(`${call} ${ms as number < 500 ? "fast" : `took ${ms} ms`}`).toBe(`${call} fast`);
        expect(r.x.calls2).toBeGreaterThan(ROUNDS * 7 - 1);
        expect(r.y.calls2).toBe(ROUNDS * 6);
      }, 45_000);

      t("difference: single mode on VPP, a create never gets VLS's pool lock while two other threads keep polling (the bad calls themselves answer)", async () => {
        const { result: r } = await runScenario<any>("09-epoll-ctl-bad-handles", [b.name, "single", String(REPEAT), String(ROUNDS)], 40_000);
        // create and close both take the pool write lock
        expect(r.stuck).toMatch(/^phase 2: not done after 20000 ms, Y inside (create|close)$/);
      }, 45_000);
    }
  });
});
