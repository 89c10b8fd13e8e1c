/**
 * `bun bench/idle-memory.ts [--connections 10000] [--mode single]`: the
 * server's RSS (forked workers included) as idle connections pile up,
 * printed per 1,000 connections. Target: under 150 MB at 10,000.
 */
import { parseArgs } from "node:util";
import { connect, type Socket } from "node:net";
import { startServerChild } from "../src/loadgen/server-child.ts";
import { rssKb } from "../test/helpers/churn.ts";
import { table } from "./lib.ts";

const { values } = parseArgs({ options: { connections: { type: "string" }, mode: { type: "string" } } });
const total = Number(values.connections ?? 10_000);
const modes = values.mode ? [values.mode] : ["single", "thread", "process"];

function open(port: number, n: number): Promise<Socket[]> {
  return new Promise((resolve, reject) => {
    const out: Socket[] = [];
    let ok = 0;
    for (let i = 0; i < n; i++) {
      const s = connect({ host: "127.0.0.1", port }, () => ++ok === n && resolve(out));
      s.on("error", reject);
      out.push(s);
    }
  });
}

let over = false;
for (const mode of modes) {
  const srv = await startServerChild({ backend: "kernel", mode, workers: 2, host: "127.0.0.1" });
  await Bun.sleep(200);
  const rows: (string | number)[][] = [["0", (rssKb(srv.proc.pid) / 1024).toFixed(1), "-"]];
  const socks: Socket[] = [];
  let prev = rssKb(srv.proc.pid);
  for (let n = 1000; n <= total; n += 1000) {
    socks.push(...(await open(srv.port, 1000)));
    await Bun.sleep(150); // let the server accept and register them
    const rss = rssKb(srv.proc.pid);
    rows.push([String(n), (rss / 1024).toFixed(1), ((rss - prev) / 1000).toFixed(2)]);
    prev = rss;
  }
  const final = rssKb(srv.proc.pid) / 1024;
  for (const s of socks) s.destroy();
  await srv.stop();
  console.log(`\n${mode} mode, 2 workers: RSS with idle connections (target < 150 MB at ${total})`);
  console.log(table(["connections", "RSS MiB", "KiB per connection (last 1,000)"], rows));
  if (final >= 150) over = true;
}
process.exit(over ? 1 : 0);
