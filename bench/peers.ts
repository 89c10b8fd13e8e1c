/**
 * `bun run bench:peers` - vlsbench's server against its anchors, driven by
 * vlsbench's own load generator (64 B messages, closed loop), alternating
 * A B A B for --rounds rounds of --duration each, medians and ratios:
 *   - vlsbench server (kernel backend, single mode, 1 worker) vs a minimal
 *     single-threaded C epoll echo (native/build/c-echo, the machine's limit);
 *   - vlsbench server vs a Bun.listen echo written with Bun's best practice;
 *   - every mode with 2 workers vs the C server.
 * At 1 and 32 connections. Targets (32 connections): vlsbench >= 0.90 x C,
 * >= 1.2 x Bun.listen; at 1 connection RTT p50 at most 3 us above C's.
 *
 *   bun bench/peers.ts [--rounds 5] [--duration 5s] [--json FILE]
 */
import { parseArgs } from "node:util";
import { writeFileSync, mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { alternate, median, table } from "./lib.ts";
import { parseReadyLine } from "../src/common/ready-line.ts";

const { values } = parseArgs({ options: { rounds: { type: "string" }, duration: { type: "string" }, json: { type: "string" }, only: { type: "string" } } });
const rounds = Number(values.rounds ?? 5);
const duration = values.duration ?? "5s";
const ROOT = join(import.meta.dir, "..");
const BENCH = join(ROOT, "src", "cli", "bench.ts");
const tmp = mkdtempSync(join(tmpdir(), "vlsbench-peers-"));

/** A server under test: how to start it. */
interface Peer {
  name: string;
  cmd: string[];
}
const server = (mode: string, workers: number): Peer => ({
  name: `vlsbench ${mode} x${workers}`,
  cmd: [process.execPath, join(ROOT, "src", "cli", "server.ts"), "--mode", mode, "--workers", String(workers), "--port", "0", "--counters-json"],
});
const C: Peer = { name: "C epoll echo", cmd: [join(ROOT, "native", "build", "c-echo"), "0"] };
const BUN: Peer = { name: "Bun.listen echo", cmd: [process.execPath, join(import.meta.dir, "peers", "bun-listen-echo.ts"), "0"] };

async function start(p: Peer) {
  const proc = Bun.spawn(p.cmd, { stdout: "pipe", stderr: "ignore" });
  const reader = proc.stdout.getReader();
  let buf = "";
  while (!buf.includes("\n")) {
    const r = await reader.read();
    if (r.done) throw new Error(`${p.name} did not start`);
    buf += new TextDecoder().decode(r.value);
  }
  const port = parseReadyLine(buf)!.port;
  /** Stops it; returns the rest of its stdout (the counters line, for vlsbench). */
  const stop = async () => {
    proc.kill("SIGTERM");
    for (;;) {
      const r = await reader.read();
      if (r.done) break;
      buf += new TextDecoder().decode(r.value);
    }
    await proc.exited;
    return buf;
  };
  return { port, stop };
}

/** FFI crossings and syscalls per echoed message, from a vlsbench server's counters. */
function perMessage(out: string): { ffi: number; sys: number } | null {
  const line = out.split("\n").find((l) => l.startsWith("{"));
  if (!line) return null;
  const c = JSON.parse(line).counters;
  const msgs = c.workers.reduce((a: number, w: { messages: number }) => a + w.messages, 0) || c.native.workers.reduce((a: number, w: { readCalls: number }) => a + w.readCalls, 0);
  const ffi = c.workers.reduce((a: number, w: { ffiCalls: number }) => a + w.ffiCalls, 0);
  const sys = c.native.workers.reduce((a: number, w: { syscalls: number }) => a + w.syscalls, 0);
  return msgs ? { ffi: c.workers.length ? ffi / msgs : NaN, sys: sys / msgs } : null;
}

async function measure(p: Peer, connections: number) {
  const { port, stop } = await start(p);
  const file = join(tmp, "r.json");
  const b = Bun.spawn([process.execPath, BENCH, "--target", `127.0.0.1:${port}`, "--connections", String(connections), "--workers", "1", "--duration", duration, "--warmup", "1s", "--json", file], { stdout: "ignore", stderr: "inherit" });
  await b.exited;
  const pm = perMessage(await stop());
  const j = JSON.parse(readFileSync(file, "utf8"));
  return { msgsPerSec: j.msgsPerSec as number, p50: j.latencyUs.p50 as number, p99: j.latencyUs.p99 as number, errors: Object.values(j.errors as Record<string, number>).reduce((a, x) => a + x, 0), ffiPerMsg: pm?.ffi ?? NaN, sysPerMsg: pm?.sys ?? NaN };
}

const groups: { title: string; peers: Peer[]; conns: number[] }[] = [
  { title: "vlsbench (single, 1 worker) vs C epoll echo vs Bun.listen", peers: [server("single", 1), C, BUN], conns: [1, 32] },
  { title: "every mode, 2 workers, vs C epoll echo", peers: [server("single", 2), server("thread", 2), server("process", 2), C], conns: [32] },
];
const out: Record<string, unknown> = {};
let errors = 0;
for (const g of groups) {
  if (values.only && !g.title.includes(values.only)) continue;
  for (const conns of g.conns) {
    const runs = await alternate(rounds, g.peers, async (p, r) => {
      const m = await measure(p, conns);
      errors += m.errors;
      console.error(`  round ${r + 1} ${p.name} @${conns}: ${m.msgsPerSec.toFixed(0)} msgs/s p50 ${m.p50} us`);
      return m;
    });
    const ref = runs.get(g.peers.find((p) => p === C)!)!;
    const cMsgs = median(ref.map((m) => m.msgsPerSec));
    const cP50 = median(ref.map((m) => m.p50));
    const rows = g.peers.map((p) => {
      const ms = runs.get(p)!;
      const msgs = median(ms.map((m) => m.msgsPerSec));
      const p50 = median(ms.map((m) => m.p50));
      const ffi = median(ms.map((m) => m.ffiPerMsg));
      const sys = median(ms.map((m) => m.sysPerMsg));
      return [p.name, msgs.toFixed(0), (msgs / cMsgs).toFixed(3), p50.toFixed(1), (p50 - cP50 >= 0 ? "+" : "") + (p50 - cP50).toFixed(1), median(ms.map((m) => m.p99)).toFixed(1), Number.isNaN(ffi) ? "-" : ffi.toFixed(2), Number.isNaN(sys) ? "-" : sys.toFixed(2)];
    });
    console.log(`\n${g.title}: ${conns} connection(s), 64 B closed loop, median of ${rounds} alternating rounds of ${duration}`);
    console.log(table(["server", "msgs/s", "x C", "p50 us", "p50 - C", "p99 us", "FFI calls/msg", "core syscalls/msg"], rows));
    if (g.peers.includes(BUN)) {
      const v = median(runs.get(g.peers[0])!.map((m) => m.msgsPerSec));
      const b = median(runs.get(BUN)!.map((m) => m.msgsPerSec));
      console.log(`vlsbench / Bun.listen: ${(v / b).toFixed(3)}`);
    }
    out[`${g.title} @${conns}`] = Object.fromEntries([...runs].map(([p, ms]) => [p.name, ms]));
  }
}
console.log(`\n${new Date().toISOString()}, ${navigator.hardwareConcurrency} cores, ${Bun.version}; errors: ${errors}`);
if (values.json) writeFileSync(values.json, JSON.stringify(out, null, 2));
process.exit(errors ? 1 : 0);
