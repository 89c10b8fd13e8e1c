// CPU per message in process mode counts the forked native workers: the
// server's parent only polls for SIGCHLD, so a figure from the parent alone
// would be about zero while its children echo every message.
import { test, expect } from "bun:test";
import { readFileSync, mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { runCli, BENCH } from "./helpers/cli.ts";

test("process mode: the server's CPU includes its forked workers", async () => {
  const file = join(mkdtempSync(join(tmpdir(), "vlsbench-cpu-proc-")), "r.json");
  const r = await runCli(BENCH, ["--mode", "process", "--server-workers", "2", "--connections", "8", "--workers", "1", "--duration", "2s", "--warmup", "1s", "--json", file]);
  expect(r.code).toBe(0);
  const j = JSON.parse(readFileSync(file, "utf8"));
  // The parent and its two forked echo workers.
  expect(j.cpu.server.processes).toBe(3);
  // Every message is a read and a write in a child: well above the idle
  // parent's few clock ticks (10 ms each) over the window.
  expect(j.cpu.server.userUs + j.cpu.server.sysUs).toBeGreaterThan(50_000);
  expect(j.cpu.server.totalUsPerMsg).toBeGreaterThan(0.2);
  expect(j.cpu.server.totalUsPerMsg).toBeLessThan(((j.cpu.windowSec * 1e6) / j.cpu.messages) * j.cpu.cores * 1.05);
});
