// Process mode: a fork that fails part-way (the native test hook
// VLSB_TEST_FORK_FAIL_AT, as at a process limit) makes the server fail to
// start with the reason, exit 1. It used to print `workers=4` with fewer
// children, and its stop then signalled pid 0 (its whole process group).
import { test, expect } from "bun:test";
import { spawnServer } from "./helpers/server-proc.ts";

test("process mode: fork failing at the 3rd of 4 workers: no ready line, EAGAIN, exit 1", async () => {
  const srv = spawnServer(["--mode", "process", "--workers", "4", "--port", "0"], { VLSB_TEST_FORK_FAIL_AT: "2" });
  const port = await srv.ready(30_000);
  if (port !== null) srv.proc.kill("SIGTERM");
  expect(await srv.exited(30_000)).toBe(1);
  expect(port).toBeNull();
  expect(srv.err()).toMatch(/vlsb_fork_echo_workers: EAGAIN/);
}, 60_000);
