// A server that resets every connection right after the handshake (SO_LINGER
// 0): bench counts each connection once as a `connect` or `read` error and
// ends at once, with --count as with --duration; no connection is left
// waiting (spinning) until --timeout.
import { test, expect, beforeAll, afterAll } from "bun:test";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Server } from "node:net";
import { runCli, BENCH } from "./helpers/cli.ts";
import { startResetServer } from "./helpers/reset-server.ts";

let srv: { server: Server; port: number };
const dir = mkdtempSync(join(tmpdir(), "vlsb-reset-"));
beforeAll(async () => {
  srv = await startResetServer();
});
afterAll(() => {
  srv.server.close();
  rmSync(dir, { recursive: true, force: true });
});

const CONNS = 32;
/** Runs bench against the reset server (a --timeout far beyond the kill bound: waiting for it is the bug). */
async function run(extra: string[], name: string) {
  const json = join(dir, `${name}.json`);
  const r = await runCli(BENCH, ["--target", `127.0.0.1:${srv.port}`, "--connections", String(CONNS), "--workers", "2", "--warmup", "0s", "--timeout", "120s", "--json", json, ...extra], 45_000);
  expect(r.signal).toBeNull();
  expect(r.code).toBe(1);
  const e = (JSON.parse(readFileSync(json, "utf8")) as { errors: Record<string, number> }).errors;
  expect(e.timeout).toBe(0);
  expect(e.connect + e.read).toBe(CONNS);
}

test("--count: every reset is a connect/read error and bench ends", async () => {
  for (let i = 0; i < 3; i++) await run(["--count", "100"], `count${i}`);
}, 150_000);

test("--duration: every reset is a connect/read error, not a timeout", async () => {
  for (let i = 0; i < 3; i++) await run(["--duration", "1s"], `duration${i}`);
}, 150_000);
