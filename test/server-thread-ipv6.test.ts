// Thread mode listens on IPv6: SO_REUSEPORT asked for before bind must not
// open an IPv4 socket (it made the bind fail with EAFNOSUPPORT).
import { test, expect } from "bun:test";
import { startServerChild } from "../src/loadgen/server-child.ts";
import { echoText } from "./helpers/tcp-probe.ts";

test("thread mode on ::1: ready line, echo, clean stop", async () => {
  const srv = await startServerChild({ backend: "kernel", mode: "thread", workers: 2, host: "::1" });
  try {
    expect(srv.readyLine).toMatch(/^ready ::1:\d+ backend=kernel mode=thread workers=2/);
    expect(await echoText("::1", srv.port, "hello over ipv6")).toBe("hello over ipv6");
  } finally {
    expect(await srv.stop()).not.toBeNull();
  }
  expect(await srv.proc.exited).toBe(0);
}, 60_000);
