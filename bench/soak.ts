/**
 * `bun run bench:soak` - integrity soak: per mode, the server with 4 workers
 * under closed-loop load, sizes cycling 1 B .. 64 KiB run by run, until
 * --messages (default 10 million) were echoed and checked byte for byte.
 * Prints per run and per mode the messages and every error kind (a lost,
 * corrupt, duplicated or reordered echo is a verify/read/timeout error);
 * exit 1 if any. --backend vpp runs it on VPP when found.
 *
 *   bun bench/soak.ts [--messages 10000000] [--modes single,thread,process] [--backend kernel]
 */
import { parseArgs } from "node:util";
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { table } from "./lib.ts";

const { values } = parseArgs({ options: { messages: { type: "string" }, modes: { type: "string" }, backend: { type: "string" }, run: { type: "string" } } });
const target = Number(values.messages ?? 10_000_000);
const modes = (values.modes ?? "single,thread,process").split(",");
const backend = values.backend ?? "kernel";
const runSec = values.run ?? "10s";
const SIZES = ["1", "64", "512", "4k", "16k", "64k"];
const BENCH = join(import.meta.dir, "..", "src", "cli", "bench.ts");
const tmp = mkdtempSync(join(tmpdir(), "vlsbench-soak-"));

const rows: (string | number)[][] = [];
let bad = 0;
for (const mode of modes) {
  let total = 0;
  let bytes = 0;
  const errs = { connect: 0, read: 0, write: 0, verify: 0, timeout: 0 };
  for (let i = 0; total < target; i++) {
    const size = SIZES[i % SIZES.length];
    const file = join(tmp, `${mode}-${i}.json`);
    const p = Bun.spawn([process.execPath, BENCH, "--backend", backend, "--mode", mode, "--server-workers", "4", "--connections", "64", "--workers", "2", "--size", size, "--duration", runSec, "--warmup", "0s", "--json", file], { stdout: "ignore", stderr: "inherit" });
    await p.exited;
    const j = JSON.parse(readFileSync(file, "utf8"));
    total += j.messages;
    bytes += j.messages * j.config.size;
    for (const k of Object.keys(errs) as (keyof typeof errs)[]) errs[k] += j.errors[k];
    console.error(`${mode} run ${i + 1} (${size} B): ${j.messages} messages, errors ${JSON.stringify(j.errors)}; total ${total}`);
  }
  const e = Object.values(errs).reduce((a, b) => a + b, 0);
  if (e) bad++;
  rows.push([mode, total, (bytes / 2 ** 30).toFixed(2), errs.verify, errs.read, errs.timeout, errs.connect + errs.write]);
}
console.log(`integrity soak, ${backend} backend, 4 server workers, 64 connections, sizes ${SIZES.join("/")} B cycling`);
console.log(table(["mode", "messages", "GiB echoed", "verify (corrupt/dup/reordered)", "read (lost/reset)", "timeout (lost)", "connect+write"], rows));
process.exit(bad ? 1 : 0);
