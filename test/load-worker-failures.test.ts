// Every load worker failure is reported and none hangs the run: before the
// start (an error, no "connected" in time) the run ends naming each failed
// worker; after the start a worker that dies is listed next to the others'
// results. Fake workers (test/fixtures/fake-load-worker.ts) do the failing.
import { test, expect } from "bun:test";
import { join } from "node:path";
import { runWorkers } from "../src/loadgen/worker-pool.ts";
import type { LoadWorkerInit } from "../src/loadgen/protocol.ts";

const script = join(import.meta.dir, "fixtures", "fake-load-worker.ts");
const inits = (hosts: string[]) => hosts.map((host, id) => ({ id, host }) as LoadWorkerInit);
const opts = (startupTimeoutMs: number) => ({ startupTimeoutMs, script, onStart: () => {}, onTick: () => {} });

test("errors before the start: the run rejects naming every failed worker", async () => {
  const err = await runWorkers(inits(["ok", "error", "ok", "error"]), opts(20_000)).catch((e: Error) => e);
  expect(err).toBeInstanceOf(Error);
  expect((err as Error).message).toBe("2 of 4 load workers failed to start: worker 1: vlsb_worker_register: ENOSPC; worker 3: vlsb_worker_register: ENOSPC");
});

test("a worker that never connects: rejected after the startup deadline", async () => {
  const err = await runWorkers(inits(["ok", "silent"]), opts(1_500)).catch((e: Error) => e);
  expect((err as Error).message).toBe("1 of 2 load workers failed to start: worker 1: not connected within 1.5s");
});

test("a worker that exits after the start is reported; the others' results are kept", async () => {
  const out = await runWorkers(inits(["ok", "exit", "ok"]), opts(20_000));
  expect(out.results.map((r) => r.id).sort()).toEqual([0, 2]);
  expect(out.failures).toEqual(["worker 1: exited (code 3) without a result"]);
});
