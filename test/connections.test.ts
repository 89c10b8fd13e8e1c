// Many connections: 10,000 idle ones accepted and closed cleanly, and the
// connection cap refusing (and counting) what is over it.
import { test, expect } from "bun:test";
import { connect, type Socket } from "node:net";
import { readdirSync } from "node:fs";
import { startServerChild } from "../src/loadgen/server-child.ts";
import { echoOnce, randomBytes } from "./helpers/echo-client.ts";

type Counters = { workers: { accepted: number; refused: number; closed: number }[]; native: { workers: { accepts: number }[] } };

function openMany(port: number, n: number): Promise<Socket[]> {
  return new Promise((resolve, reject) => {
    const socks: Socket[] = [];
    let ok = 0;
    for (let i = 0; i < n; i++) {
      const s = connect({ host: "127.0.0.1", port }, () => {
        if (++ok === n) resolve(socks);
      });
      s.on("error", reject);
      socks.push(s);
    }
  });
}

async function closeAll(socks: Socket[]) {
  await Promise.all(socks.map((s) => new Promise<void>((r) => (s.destroyed ? r() : (s.once("close", () => r()), s.destroy())))));
}

test("10,000 idle connections accepted, still served, closed cleanly", async () => {
  const srv = await startServerChild({ backend: "kernel", mode: "thread", workers: 2, host: "127.0.0.1" });
  const fds = () => readdirSync(`/proc/${srv.proc.pid}/fd`).length;
  const idleFds = fds();
  const socks = await openMany(srv.port, 10_000);
  const p = randomBytes(10_000, 11);
  expect((await echoOnce(srv.port, p)).equals(Buffer.from(p))).toBe(true);
  await closeAll(socks);
  // The server has seen every close once its descriptors are back to what
  // it held idle (bounded: a loaded machine takes longer than a quiet one).
  const t0 = Date.now();
  while (fds() > idleFds && Date.now() - t0 < 20_000) await Bun.sleep(20);
  const c = (await srv.stop()) as Counters;
  const accepted = c.workers.reduce((a, w) => a + w.accepted, 0);
  const closed = c.workers.reduce((a, w) => a + w.closed, 0);
  expect(accepted).toBe(10_001);
  expect(closed).toBe(10_001); // every one seen closing by the server, none left open
}, 60_000);

test("over --max-connections: refused and counted, the rest served", async () => {
  const srv = await startServerChild({ backend: "kernel", mode: "single", workers: 2, host: "127.0.0.1", extraArgs: ["--max-connections", "5"] });
  const held = await openMany(srv.port, 5);
  await Bun.sleep(100);
  const extra = await openMany(srv.port, 3); // the kernel accepts; the server closes them
  const ended = await Promise.all(extra.map((s) => new Promise<boolean>((r) => { s.once("close", () => r(true)); setTimeout(() => r(false), 3000); })));
  expect(ended).toEqual([true, true, true]);
  await closeAll(held);
  await Bun.sleep(100);
  const p = randomBytes(1000, 12); // capacity is back once they are gone
  expect((await echoOnce(srv.port, p)).equals(Buffer.from(p))).toBe(true);
  const c = (await srv.stop()) as Counters;
  expect(c.workers.reduce((a, w) => a + w.refused, 0)).toBe(3);
  expect(c.workers.reduce((a, w) => a + w.accepted, 0)).toBe(6);
}, 30_000);
