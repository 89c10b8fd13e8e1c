// A second SIGTERM while a thread-mode server stops must not kill it before
// it prints its counters (it used to die of the default action, exit 143).
import { test, expect } from "bun:test";
import { spawnServer } from "./helpers/server-proc.ts";
import { echoText } from "./helpers/tcp-probe.ts";

test("thread mode: SIGTERM twice still prints the counters and exits 0", async () => {
  const srv = spawnServer(["--mode", "thread", "--workers", "2", "--port", "0", "--counters-json"]);
  const port = await srv.ready();
  expect(port).not.toBeNull();
  expect(await echoText("127.0.0.1", port!, "ping")).toBe("ping");
  srv.proc.kill("SIGTERM");
  await Bun.sleep(30);
  srv.proc.kill("SIGTERM");
  expect(await srv.exited()).toBe(0);
  expect(srv.err()).toMatch(/^worker 0 \(vcl \d+\): accepted=/m);
  expect(srv.out()).toMatch(/^\{"counters":/m);
}, 60_000);
