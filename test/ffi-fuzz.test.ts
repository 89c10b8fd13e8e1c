// 100,000 random ABI calls from 4 threads at once (random, stale and foreign
// handles, wrong sizes, closed sessions): only counts and negative errno
// values come back; no crash, no hang. Each call may answer only the errno
// values its contract allows; EBADF (9) is none of them: it would be a
// kernel fd used after its close.
import { test, expect } from "bun:test";
import { join } from "node:path";
import { runScenario } from "./helpers/scenario.ts";

const SCRIPT = join(import.meta.dir, "scenarios", "ffi-fuzz.ts");

// Per call: "ok" (a count or handle) and the errno values it may answer to
// the fuzz's arguments (bad handles EBADFD 77, bad arguments EINVAL 22, and
// each call's own; an errno of the socket underneath only where the call
// reaches one: read/write/connect/shutdown/attr on a connected or
// connecting session). Seen over 6 runs (2026-12) plus the rare ones the
// contract allows (EEXIST on a second ADD, ECONNABORTED on accept,
// EOPNOTSUPP for a UDP listen/accept, EACCES on a low port without root).
const ALLOWED: Record<string, string[]> = {
  create: ["ok", "93", "22", "12"],
  bind: ["ok", "22", "77", "97", "98", "13"],
  listen: ["ok", "22", "77", "98", "95"],
  connect: ["ok", "22", "77", "97", "99", "104", "106", "111", "114", "115"],
  accept: ["ok", "11", "22", "77", "95", "103"],
  read: ["ok", "11", "22", "77", "104", "107", "111"],
  write: ["ok", "11", "22", "32", "77", "104", "107", "111"],
  close: ["ok", "77"],
  epoll_create: ["ok", "12"],
  epoll_ctl: ["ok", "2", "17", "22", "77"],
  epoll_wait: ["ok", "22", "77"],
  shutdown: ["ok", "22", "77", "107"],
  attr: ["ok", "22", "77", "92", "95", "107"],
};

for (const mode of ["single", "thread"])
  test(`FFI fuzz, ${mode} mode, 4 threads x 25,000 calls`, async () => {
    const r = await runScenario(SCRIPT, [mode, "4", "25000"], 90_000);
    expect(r.calls).toBe(100_000);
    expect(r.bad).toEqual([]);
    expect(r.results.ok).toBeGreaterThan(1000); // the fuzz did reach real work
    expect(r.results["77"]).toBeGreaterThan(1000); // EBADFD for bad handles
    for (const [call, counts] of Object.entries(r.byCall as Record<string, Record<string, number>>)) {
      const allowed = ALLOWED[call];
      expect(allowed ? call : `unknown call ${call}`).toBe(call);
      for (const k of Object.keys(counts)) expect(allowed.includes(k) ? k : `${call} answered unexpected errno ${k}`).toBe(k);
    }
  }, 100_000);
