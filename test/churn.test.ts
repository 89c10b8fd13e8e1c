// Connect/echo/close churn leaves no session behind: the server's open fds
// (its forked workers' included) come back to exactly where they started.
import { test, expect } from "bun:test";
import { startServerChild } from "../src/loadgen/server-child.ts";
import { churn, fdCount } from "./helpers/churn.ts";

for (const mode of ["single", "thread", "process"])
  test(`3,000 connect/echo/close cycles leak no fd (${mode} mode)`, async () => {
    const srv = await startServerChild({ backend: "kernel", mode, workers: 2, host: "127.0.0.1" });
    expect(await churn(srv.port, 200)).toBe(0);
    await Bun.sleep(200);
    const before = fdCount(srv.proc.pid);
    expect(await churn(srv.port, 3000)).toBe(0);
    let after = fdCount(srv.proc.pid);
    for (let i = 0; i < 20 && after !== before; i++) {
      await Bun.sleep(100); // the last closes are seen on the next poll
      after = fdCount(srv.proc.pid);
    }
    await srv.stop();
    expect(after).toBe(before);
  }, 60_000);
