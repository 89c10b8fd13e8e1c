// Every byte echoed intact and in order: 1 and 64 connections, sizes from
// 1 B to 1 MiB, against the server in its default (single) mode.
import { describe, test, expect, beforeAll, afterAll } from "bun:test";
import { startServerChild, type ServerChild } from "../src/loadgen/server-child.ts";
import { echoOnce, randomBytes } from "./helpers/echo-client.ts";

let srv: ServerChild;
beforeAll(async () => {
  srv = await startServerChild({ backend: "kernel", mode: "single", workers: 2, host: "127.0.0.1" });
});
afterAll(async () => {
  await srv.stop();
});

describe("echo integrity", () => {
  for (const size of [1, 64, 64 * 1024, 1024 * 1024]) {
    test(`1 connection, ${size} B`, async () => {
      const p = randomBytes(size, size);
      expect((await echoOnce(srv.port, p)).equals(Buffer.from(p))).toBe(true);
    });
    test(`64 connections, ${size} B each`, async () => {
      const payloads = Array.from({ length: 64 }, (_, i) => randomBytes(size, size * 131 + i + 1));
      const back = await Promise.all(payloads.map((p) => echoOnce(srv.port, p, 60_000)));
      back.forEach((b, i) => expect(b.equals(Buffer.from(payloads[i]))).toBe(true));
    });
  }
});
