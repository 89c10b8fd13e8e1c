// Process mode: a forked worker that dies is reported on stderr at once
// (pid, signal or status); when none is left the server exits 1 instead of
// leaving the kernel to complete connections nobody serves (it used to
// stay up, silent, while clients timed out).
import { test, expect } from "bun:test";
import { readFileSync } from "node:fs";
import { spawnServer } from "./helpers/server-proc.ts";
import { echoText } from "./helpers/tcp-probe.ts";

async function until(cond: () => boolean, ms: number) {
  const deadline = Date.now() + ms;
  while (!cond() && Date.now() < deadline) await Bun.sleep(50);
  return cond();
}

test("process mode: each dead worker is reported; with none left, exit 1", async () => {
  const srv = spawnServer(["--mode", "process", "--workers", "2", "--port", "0"]);
  const port = await srv.ready();
  expect(port).not.toBeNull();
  const pid = srv.proc.pid;
  const kids = readFileSync(`/proc/${pid}/task/${pid}/children`, "utf8").trim().split(/\s+/).map(Number);
  expect(kids.length).toBe(2);
  process.kill(kids[0], "SIGKILL");
  expect(await until(() => srv.err().includes(`worker pid ${kids[0]} killed by signal 9; 1 of 2 left`), 15_000)).toBe(true);
  expect(await echoText("127.0.0.1", port!, "the other serves")).toBe("the other serves");
  process.kill(kids[1], "SIGKILL");
  expect(await srv.exited(20_000)).toBe(1);
  expect(srv.err()).toContain(`worker pid ${kids[1]} killed by signal 9; 0 of 2 left`);
  expect(srv.err()).toMatch(/every forked worker is dead/);
}, 60_000);
