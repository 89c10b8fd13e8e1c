// Thread mode owns its port: a second server on the same port exits 1 with
// EADDRINUSE (SO_REUSEPORT used to let it in and split the traffic), and
// the first one keeps serving.
import { test, expect } from "bun:test";
import { spawnServer } from "./helpers/server-proc.ts";
import { echoText } from "./helpers/tcp-probe.ts";

test("thread mode: a second server on the same port exits 1 with EADDRINUSE", async () => {
  const first = spawnServer(["--mode", "thread", "--workers", "2", "--port", "0", "--counters-json"]);
  try {
    const port = await first.ready();
    expect(port).not.toBeNull();
    for (const mode of ["thread", "single", "process"]) {
      const second = spawnServer(["--mode", mode, "--workers", "2", "--port", String(port)]);
      const code = await second.exited(30_000);
      expect({ mode, code, ready: second.out().includes("ready") }).toEqual({ mode, code: 1, ready: false });
      expect(second.err()).toMatch(/EADDRINUSE/);
    }
    for (let i = 0; i < 8; i++) expect(await echoText("127.0.0.1", port!, `still here ${i}`)).toBe(`still here ${i}`);
  } finally {
    first.proc.kill("SIGTERM");
  }
  expect(await first.exited()).toBe(0);
  const counters = JSON.parse(first.out().split("\n").find((l) => l.startsWith("{"))!).counters;
  // every probe went to the first server
  expect(counters.workers.reduce((a: number, w: { accepted: number }) => a + w.accepted, 0)).toBe(8);
}, 90_000);
