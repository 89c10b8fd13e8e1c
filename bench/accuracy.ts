/**
 * `bun run bench:accuracy` - how exact vlsbench's load generator is.
 *
 * 1. Round-trip time against sockperf (Debian's `sockperf` package): a
 *    closed loop, 1 connection, 64 B messages, alternating A B C for
 *    --rounds rounds. sockperf's ping-pong (--tcp --full-rtt) needs its own
 *    `sockperf server`, which with one client does a blocking recv + send per
 *    message (no epoll); vlsbench therefore runs against the project's C
 *    echo in the same shape (native/build/c-echo --blocking), so both servers
 *    cost the same. Two sockperf clients: its default (blocking recv: 2
 *    syscalls per round trip) and `-F epoll` (epoll_wait + recv + send, the
 *    shape of vlsbench's own loop and of every multiplexing load generator).
 *    Target: vlsbench's median p50 within 10% of sockperf's default.
 *    Skipped, with one line, when sockperf is not installed.
 * 2. The fixed-rate mode (--rate, 1 worker, 4 connections) against c-echo at
 *    1k, 10k and 50k msgs/s: asked, sent and achieved rate, error, pacing.
 *    Target: achieved within 1% of asked where the server keeps up.
 *
 * Where a loopback round trip runs depends mostly on where the scheduler
 * puts client and server: on one CPU it costs a context switch, across two
 * an inter-processor wake-up (on a VM several times dearer). Both tools are
 * therefore measured with the same placement (taskset): `split` (server on
 * CPU 1, client on CPU 0, as benchmarks are usually run), `same` (both on
 * CPU 0), or `none` (the scheduler decides). The fixed-rate part is not
 * pinned (the rate, not the latency, is its point).
 *
 *   bun bench/accuracy.ts [--rounds 5] [--duration 5s] [--pin split,same] [--json FILE]
 */
import { parseArgs } from "node:util";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { buildNative } from "../scripts/build-native.mjs";
import { nativeProgram } from "../src/native/paths.ts";
import { alternate, median, table } from "./lib.ts";
import { parseReadyLine } from "../src/common/ready-line.ts";

const { values } = parseArgs({ options: { rounds: { type: "string" }, duration: { type: "string" }, pin: { type: "string" }, json: { type: "string" } } });
const rounds = Number(values.rounds ?? 5);
const duration = values.duration ?? "5s";
const durationSec = Number(duration.replace(/s$/, ""));
const BENCH = join(import.meta.dir, "..", "src", "cli", "bench.ts");
const tmp = mkdtempSync(join(tmpdir(), "vlsbench-accuracy-"));
const canPin = Bun.which("taskset") !== null && navigator.hardwareConcurrency >= 2;
const pins = canPin ? (values.pin ?? "split,same").split(",") : ["none"];

/** CPUs of server and client for a placement, or null for none. */
const placement = (pin: string): { server: number; client: number } | null => (pin === "split" ? { server: 1, client: 0 } : pin === "same" ? { server: 0, client: 0 } : null);
/** cmd prefixed to run on cpu (nothing when cpu is null). */
const on = (cpu: number | null, cmd: string[]) => (cpu === null ? cmd : ["taskset", "-c", String(cpu), ...cmd]);

/** Moves every thread of a running process to cpu (or back to all CPUs). */
async function repin(pid: number, cpu: number | null) {
  const cpus = cpu === null ? `0-${navigator.hardwareConcurrency - 1}` : String(cpu);
  await Bun.spawn(["taskset", "-a", "-p", "-c", cpus, String(pid)], { stdout: "ignore", stderr: "ignore" }).exited;
}

/** Starts a server program; resolves once it accepts connections on port. */
async function startServer(cmd: string[], port: number | null) {
  const proc = Bun.spawn(cmd, { stdout: "pipe", stderr: "pipe" });
  let p = port;
  if (p === null) {
    const line = new TextDecoder().decode((await proc.stdout.getReader().read()).value ?? new Uint8Array());
    const ready = parseReadyLine(line);
    if (!ready) throw new Error(`${cmd[0]} did not start: ${line}`);
    p = ready.port;
  } else {
    for (let i = 0; ; i++) {
      const ok = await Bun.connect({ hostname: "127.0.0.1", port: p, socket: { data() {} } }).then((s) => (s.end(), true), () => false);
      if (ok) break;
      if (i > 50 || proc.exitCode !== null) throw new Error(`${cmd.join(" ")} did not start`);
      await Bun.sleep(100);
    }
  }
  return { port: p, pid: proc.pid, stop: async () => (proc.kill("SIGTERM"), await proc.exited) };
}

/** Runs bench with args against port (on cpu); returns its JSON report. */
async function vlsbench(port: number, args: string[], cpu: number | null) {
  const file = join(tmp, "r.json");
  const p = Bun.spawn(on(cpu, [process.execPath, BENCH, "--target", `127.0.0.1:${port}`, "--workers", "1", "--size", "64", "--duration", duration, "--warmup", "1s", "--json", file, ...args]), { stdout: "ignore", stderr: "inherit", env: { ...process.env, CI: "1" } });
  await p.exited;
  return JSON.parse(readFileSync(file, "utf8"));
}

/** sockperf ping-pong RTT p50 (µs), run on cpu; epoll: through `-F epoll`
 * (which sockperf takes only with a connection list file). */
async function sockperf(port: number, cpu: number | null, epoll: boolean): Promise<number> {
  const list = join(tmp, "sockperf.list");
  if (epoll) writeFileSync(list, `T:127.0.0.1:${port}\n`);
  const target = epoll ? ["-f", list, "-F", "epoll"] : ["--tcp", "-i", "127.0.0.1", "-p", String(port)];
  const p = Bun.spawn(on(cpu, ["sockperf", "ping-pong", ...target, "-m", "64", "-t", String(Math.round(durationSec)), "--full-rtt"]), { stdout: "pipe", stderr: "pipe" });
  const [out, err] = await Promise.all([new Response(p.stdout).text(), new Response(p.stderr).text()]);
  await p.exited;
  const m = (out + err).match(/percentile 50\.000 =\s*([\d.]+)/);
  if (!m) throw new Error(`sockperf printed no p50: ${(out + err).slice(-400)}`);
  return Number(m[1]);
}

const hasSockperf = Bun.which("sockperf") !== null;
buildNative({ variant: "release", quiet: true });
const echo = await startServer([nativeProgram("c-echo"), "0"], null);
const blockingEcho = await startServer([nativeProgram("c-echo"), "0", "--blocking"], null);
const report: Record<string, unknown> = { rounds, duration };
try {
  if (!hasSockperf) console.log("sockperf is not installed (apt-get install sockperf): RTT comparison skipped");
  else {
    const spPort = 20000 + Math.floor(Math.random() * 30000);
    const sp = await startServer(["sockperf", "server", "--tcp", "-i", "127.0.0.1", "-p", String(spPort)], spPort);
    try {
      const rtt: Record<string, unknown> = {};
      for (const pin of pins) {
        const at = placement(pin);
        await repin(blockingEcho.pid, at?.server ?? null);
        await repin(sp.pid, at?.server ?? null);
        const runs = await alternate(rounds, ["vlsbench", "sockperf", "sockperf-epoll"] as const, async (which, r) => {
          const cpu = at?.client ?? null;
          const p50 = which === "vlsbench" ? (await vlsbench(blockingEcho.port, ["--connections", "1"], cpu)).latencyUs.p50 : await sockperf(spPort, cpu, which === "sockperf-epoll");
          console.error(`  ${pin} round ${r + 1} ${which}: p50 ${p50} us`);
          return p50 as number;
        });
        const v = runs.get("vlsbench")!;
        const s = runs.get("sockperf")!;
        const e = runs.get("sockperf-epoll")!;
        const ratio = median(v) / median(s);
        const ratioEpoll = median(v) / median(e);
        const where = at ? `servers on CPU ${at.server}, clients on CPU ${at.client}` : "placed by the scheduler";
        console.log(`\nRTT p50 (us), 64 B, 1 connection, closed loop, ${rounds} alternating rounds of ${duration}, ${where}: vlsbench -> c-echo --blocking, sockperf ping-pong (default, and -F epoll) -> sockperf server`);
        const row = (label: string, i: number | null) => {
          const pick = (xs: number[]) => (i === null ? median(xs) : xs[i]);
          return [label, pick(v).toFixed(2), pick(s).toFixed(2), pick(e).toFixed(2), (pick(v) / pick(s)).toFixed(3), (pick(v) / pick(e)).toFixed(3)];
        };
        console.log(table(["round", "vlsbench", "sockperf", "sockperf -F epoll", "vlsbench/sockperf", "vlsbench/epoll"], v.map((_, i) => row(String(i + 1), i)).concat([row("median", null)])));
        console.log(`${pin}: vlsbench p50 / sockperf p50 = ${ratio.toFixed(3)}: ${Math.abs(ratio - 1) <= 0.1 ? "within" : "NOT within"} 10% (against sockperf -F epoll: ${ratioEpoll.toFixed(3)})`);
        rtt[pin] = { vlsbench: v, sockperf: s, sockperfEpoll: e, ratio, ratioEpoll };
      }
      report.rtt = rtt;
    } finally {
      await sp.stop();
    }
  }
  if (canPin) await repin(echo.pid, null);
  const rates = [1000, 10_000, 50_000];
  const rows: string[][] = [];
  const fixed = [];
  for (const rate of rates) {
    const j = await vlsbench(echo.port, ["--rate", String(rate), "--connections", "4"], null);
    const err = ((j.rate.achieved - rate) / rate) * 100;
    fixed.push({ rate, ...j.rate, errorPct: err, pacing: j.pacing, latencyUs: j.latencyUs });
    rows.push([String(rate), j.rate.sent.toFixed(1), j.rate.achieved.toFixed(1), err.toFixed(3), j.pacing.lagUs.p50.toFixed(2), j.pacing.lagUs.p99.toFixed(2), j.latencyUs.p50.toFixed(2), j.latencyUs.p99.toFixed(2), Math.abs(err) <= 1 ? "yes" : "NO"]);
  }
  console.log(`\nfixed rate against c-echo: 1 worker, 4 connections, 64 B, ${duration} after 1 s warm-up, placed by the scheduler`);
  console.log(table(["asked msgs/s", "sent", "achieved", "error %", "lag p50 us", "lag p99 us", "p50 us", "p99 us", "within 1%"], rows));
  report.fixedRate = fixed;
} finally {
  await echo.stop();
  await blockingEcho.stop();
}
console.log(`\n${new Date().toISOString()}, ${navigator.hardwareConcurrency} cores, Bun ${Bun.version}`);
if (values.json) writeFileSync(values.json, JSON.stringify(report, null, 2) + "\n");
