// Peers that misbehave: a reset in mid-write, a half-close, a client that
// never reads. The server keeps serving the others, counts what happened,
// and its memory for the silent reader stays bounded.
import { describe, test, expect, beforeAll, afterAll } from "bun:test";
import { connect, type Socket } from "node:net";
import { startServerChild, type ServerChild } from "../src/loadgen/server-child.ts";
import { echoOnce, randomBytes } from "./helpers/echo-client.ts";
import { rssKb } from "./helpers/churn.ts";

const open = (port: number) =>
  new Promise<Socket>((resolve, reject) => {
    const s = connect({ host: "127.0.0.1", port }, () => resolve(s));
    s.on("error", reject);
  });

for (const mode of ["single", "thread", "process"]) {
  describe(`faults (${mode} mode)`, () => {
    let srv: ServerChild;
    beforeAll(async () => {
      srv = await startServerChild({ backend: "kernel", mode, workers: 2, host: "127.0.0.1" });
    });
    afterAll(async () => {
      await srv.stop();
    });

    test("a client reset in mid-write is counted; others are served", async () => {
      const own = await startServerChild({ backend: "kernel", mode, workers: 2, host: "127.0.0.1" });
      const s = await open(own.port);
      s.on("error", () => {});
      s.pause(); // let the server's echo back up, so it is mid-write when the reset lands
      for (let i = 0; i < 16; i++) s.write(randomBytes(256 * 1024, 3 + i));
      await Bun.sleep(300);
      s.resetAndDestroy();
      await Bun.sleep(100);
      const p = randomBytes(200_000, 4);
      expect((await echoOnce(own.port, p)).equals(Buffer.from(p))).toBe(true);
      const c = (await own.stop()) as { workers: { resets: number; errors: number }[]; native: { workers: { errors: number }[] } };
      const counted = c.workers.reduce((a, w) => a + w.resets + w.errors, 0) + (mode === "process" ? c.native.workers.reduce((a, w) => a + w.errors, 0) : 0);
      expect(counted).toBeGreaterThanOrEqual(1);
    });

    test("a half-closed client gets its whole echo, then the server closes", async () => {
      const s = await open(srv.port);
      const p = randomBytes(300_000, 5);
      const chunks: Buffer[] = [];
      const closed = new Promise<void>((resolve) => s.on("end", resolve));
      s.on("data", (d: Buffer) => chunks.push(d));
      s.end(p); // write everything, then FIN: the read side stays open
      await closed;
      expect(Buffer.concat(chunks).equals(Buffer.from(p))).toBe(true);
    });

    test("a client that never reads costs bounded server memory; others unaffected", async () => {
      const before = rssKb(srv.proc.pid);
      const s = await open(srv.port);
      s.pause(); // never read
      s.on("error", () => {});
      const block = Buffer.from(randomBytes(1 << 20, 6));
      let written = 0;
      const deadline = Date.now() + 3000;
      // Push until both directions' kernel buffers are full and the server
      // stopped reading (backpressure), up to 64 MiB.
      while (written < 64 << 20 && Date.now() < deadline) {
        if (!s.write(block)) await Promise.race([new Promise((r) => s.once("drain", r)), Bun.sleep(200)]);
        written += block.length;
      }
      const p = randomBytes(100_000, 7);
      expect((await echoOnce(srv.port, p)).equals(Buffer.from(p))).toBe(true);
      const grown = rssKb(srv.proc.pid) - before;
      expect(grown).toBeLessThan(32 * 1024); // far below what was sent at it
      s.destroy();
    });
  });
}
