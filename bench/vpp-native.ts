/**
 * `bun run bench:vpp` - the Bun server on VPP against the project's native
 * echo loop on VPP (native/build/vlsb-echo), cut-through and stack, at 1 and
 * 32 connections, 64 B closed loop, alternating A B A B; medians of msgs/s,
 * p50 and p99 and the ratio. Target: Bun >= 0.85 x native at 32 connections.
 * Needs VPP (VPP_PREFIX or FD.io's packages); says so and exits 0 without.
 *
 *   bun bench/vpp-native.ts [--rounds 3] [--duration 3s] [--json FILE]
 */
import { parseArgs } from "node:util";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { alternate, median, table, runJsonChild } from "./lib.ts";
import { findVpp, vppNotFoundReason } from "../src/vpp/find.ts";

const { values, positionals } = parseArgs({ allowPositionals: true, options: { child: { type: "boolean" }, rounds: { type: "string" }, duration: { type: "string" }, json: { type: "string" } } });
const rounds = Number(values.rounds ?? 3);
const duration = values.duration ?? "3s";
const ROOT = join(import.meta.dir, "..");

/** One topology, in its own process (the load generator attaches to one VPP). */
async function child(topology: "cut-through" | "stack") {
  const { prepareVppRun } = await import("../src/vpp/run-setup.ts");
  const { appInit } = await import("../src/native/vls.ts");
  const { runLoad } = await import("../src/loadgen/run.ts");
  const { nativeProgram } = await import("../src/native/paths.ts");
  const { durationFlag } = await import("../src/common/args.ts");
  const run = await prepareVppRun({ topology });
  const install = findVpp()!;
  appInit("vpp", "thread", run.clientOptions);
  let portSeq = 30000 + Math.floor(Math.random() * 20000);
  const servers = ["bun server", "native echo"] as const;
  const start = async (which: (typeof servers)[number]) => {
    const port = portSeq++;
    const cmd =
      which === "bun server"
        ? [process.execPath, join(ROOT, "src", "cli", "server.ts"), "--backend", "vpp", "--mode", "single", "--workers", "1", "--host", run.serverHost, "--port", String(port), ...run.serverArgs]
        : [nativeProgram("vlsb-echo"), "vpp", run.serverHost, String(port), `lib=${install.libvppcom};vcl_config=${run.vpp.writeVcl("server", "single")};app_name=native-echo-${port}`];
    const p = Bun.spawn(cmd, { stdout: "pipe", stderr: "ignore" });
    const reader = p.stdout.getReader();
    const first = new TextDecoder().decode((await reader.read()).value ?? new Uint8Array());
    if (!first.startsWith("ready")) throw new Error(`${which} did not start on VPP`);
    return { port, stop: async () => (p.kill("SIGTERM"), await p.exited) };
  };
  const out: Record<string, unknown> = {};
  for (const connections of [1, 32]) {
    const runs = await alternate(rounds, [...servers], async (which) => {
      process.stderr.write(`stage: ${topology} ${which} @${connections}\n`);
      const s = await start(which);
      const r = await runLoad({ host: run.serverHost, port: s.port, connections, workers: 1, size: 64, warmupSec: 0.5, durationSec: durationFlag("duration", duration, 3), timeoutSec: 5, connectTimeoutSec: 3 });
      await s.stop();
      const errors = Object.values(r.errors).reduce((a, b) => a + b, 0);
      return { msgsPerSec: r.msgsPerSec, p50: r.latencyUs.p50, p99: r.latencyUs.p99, errors };
    });
    out[String(connections)] = Object.fromEntries(runs);
  }
  await run.vpp.stop();
  console.log(JSON.stringify({ topology, version: run.version, results: out }));
  process.exit(0);
}

async function main() {
  if (!findVpp()) {
    console.log(`bench:vpp skipped: ${vppNotFoundReason()}`);
    return;
  }
  const all: unknown[] = [];
  let errors = 0;
  for (const topology of ["cut-through", "stack"]) {
    const j = await runJsonChild(import.meta.path, ["--child", topology, "--rounds", String(rounds), "--duration", duration], {}, 600_000);
    all.push(j);
    for (const [conns, byServer] of Object.entries(j.results as Record<string, Record<string, { msgsPerSec: number; p50: number; p99: number; errors: number }[]>>)) {
      const b = byServer["bun server"];
      const n = byServer["native echo"];
      errors += [...b, ...n].reduce((a, x) => a + x.errors, 0);
      const mb = median(b.map((x) => x.msgsPerSec));
      const mn = median(n.map((x) => x.msgsPerSec));
      console.log(`\n${j.version}, ${topology}, ${conns} connection(s), 64 B closed loop, median of ${rounds} alternating rounds of ${duration}`);
      console.log(table(["server", "msgs/s", "p50 us", "p99 us"], [
        ["Bun server (single, 1 worker)", mb.toFixed(0), median(b.map((x) => x.p50)).toFixed(1), median(b.map((x) => x.p99)).toFixed(1)],
        ["native echo loop (vlsb-echo)", mn.toFixed(0), median(n.map((x) => x.p50)).toFixed(1), median(n.map((x) => x.p99)).toFixed(1)],
      ]));
      console.log(`Bun / native: ${(mb / mn).toFixed(3)}${conns === "32" ? " (target >= 0.85)" : ""}`);
    }
  }
  console.log(`errors: ${errors}`);
  if (values.json) writeFileSync(values.json, JSON.stringify(all, null, 2));
  process.exit(errors ? 1 : 0);
}

if (values.child) await child(positionals[0] as "cut-through" | "stack");
else await main();
