// More load workers than the core has room for: refused at parse time
// (--workers 64 is misuse, exit 2), and a worker that cannot register ends
// the run with its reason instead of hanging it.
import { test, expect } from "bun:test";
import { join } from "node:path";
import { runCli, BENCH, ROOT } from "./helpers/cli.ts";

test("--workers 64: exit 2 naming the limit, before any work", async () => {
  const r = await runCli(BENCH, ["--workers", "64", "--connections", "64", "--duration", "200ms", "--warmup", "0s"], 30_000);
  expect(r.code).toBe(2);
  expect(r.stderr).toMatch(/--workers must be between 1 and 63, got 64/);
  expect(r.stdout).toBe("");
});

test("a load worker whose registration fails ends the run with its errno, in bounded time", async () => {
  const r = await runCli(join(ROOT, "test", "scenarios", "too-many-load-workers.ts"), [], 50_000);
  expect(r.signal).toBeNull();
  const out = JSON.parse(r.stdout.trim()) as { rejected: boolean; message: string };
  expect(out.rejected).toBe(true);
  expect(out.message).toMatch(/1 of 64 load workers failed to start: worker \d+: vlsb_worker_register: ENOSPC/);
}, 60_000);
