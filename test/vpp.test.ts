// The real-VPP backend: every mode through both topologies, VPP's
// lifecycle on every exit path, and a VPP that dies mid-run. Skipped, with
// the reason, when no VPP is installed (VPP_PREFIX or FD.io's packages).
import { describe, test, expect } from "bun:test";
import { readFileSync, readdirSync, mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { findVpp, vppNotFoundReason, vppVersion } from "../src/vpp/find.ts";
import { runCli, BENCH, SERVER } from "./helpers/cli.ts";
import { runScenario } from "./helpers/scenario.ts";

const install = findVpp();
const vtest = install ? test : test.skip;
const why = install ? "" : ` [skipped: ${vppNotFoundReason()}]`;
const tmp = mkdtempSync(join(tmpdir(), "vlsbench-vpp-test-"));

const vppRunDirs = () => readdirSync(tmpdir()).filter((d) => d.startsWith("vlsbench-vpp-") && !d.startsWith("vlsbench-vpp-test-"));
const vppProcs = () => {
  const out: number[] = [];
  for (const p of readdirSync("/proc")) {
    if (!/^\d+$/.test(p)) continue;
    try {
      if (readFileSync(`/proc/${p}/cmdline`, "utf8").split("\0")[0] === install?.vpp) out.push(Number(p));
    } catch {}
  }
  return out;
};

describe(`vpp backend${install ? ` ${vppVersion(install).short}` : ""}${why}`, () => {
  for (const topology of ["cut-through", "stack"])
    for (const mode of ["single", "thread", "process"])
      vtest(`${mode} mode, ${topology}: every byte echoed through VPP`, async () => {
        const file = join(tmp, `${mode}-${topology}.json`);
        const r = await runCli(BENCH, ["--backend", "vpp", "--vpp-topology", topology, "--mode", mode, "--connections", "8", "--workers", "2", "--duration", "1s", "--warmup", "300ms", "--json", file], 60_000);
        // One assertion on both, so a failure shows what bench said.
        expect({ code: r.code, stderr: r.stderr.trim(), stdoutTail: r.code === 0 ? "" : r.stdout.trim().split("\n").slice(-15).join("\n") }).toEqual({ code: 0, stderr: "", stdoutTail: "" });
        const j = JSON.parse(readFileSync(file, "utf8"));
        expect(j.errors).toEqual({ connect: 0, read: 0, write: 0, verify: 0, timeout: 0 });
        expect(j.messages).toBeGreaterThan(1000);
        expect(j.config.vppVersion).toMatch(/^vpp v/);
        expect(j.server.readyLine).toMatch(new RegExp(`backend=vpp mode=${mode}`));
      }, 70_000);

  // Differences between VPP's VLS and the embedded model, pinned (README lists them).
  test("difference: port 0 — the kernel reports the port it chose", async () => {
    const k = await runScenario(join(import.meta.dir, "scenarios", "port-zero.ts"), ["kernel"], 30_000);
    expect(k.listenRv).toBe(0);
    expect(k.port).toBeGreaterThan(0);
  });
  vtest("difference: port 0 — VPP listens but reports port 0, so vlsbench picks ports itself", async () => {
    const v = await runScenario(join(import.meta.dir, "scenarios", "port-zero.ts"), ["vpp"], 30_000);
    expect(v.listenRv).toBe(0);
    expect(v.rv).toBe(0);
    expect(v.port).toBe(0);
  }, 40_000);

  vtest("a SIGKILLed server leaves no VPP process and no run directory", async () => {
    const before = vppRunDirs().length;
    const p = Bun.spawn([process.execPath, SERVER, "--backend", "vpp", "--port", "0"], { stdout: "pipe", stderr: "ignore" });
    const reader = p.stdout.getReader();
    const first = new TextDecoder().decode((await reader.read()).value);
    expect(first).toMatch(/^ready /);
    expect(vppProcs().length).toBeGreaterThan(0);
    p.kill("SIGKILL");
    await p.exited;
    const deadline = Date.now() + 8000;
    while ((vppProcs().length || vppRunDirs().length > before) && Date.now() < deadline) await Bun.sleep(100);
    expect(vppProcs()).toEqual([]);
    expect(vppRunDirs().length).toBe(before);
  }, 30_000);

  vtest("VPP killed under the server: it reports it and exits non-zero within 10 s", async () => {
    const p = Bun.spawn([process.execPath, SERVER, "--backend", "vpp", "--port", "0"], { stdout: "pipe", stderr: "pipe" });
    const reader = p.stdout.getReader();
    expect(new TextDecoder().decode((await reader.read()).value)).toMatch(/^ready /);
    for (const pid of vppProcs()) process.kill(pid, "SIGKILL");
    const t0 = Date.now();
    const code = await Promise.race([p.exited, Bun.sleep(10_000).then(() => "hung")]);
    expect(code).not.toBe("hung");
    expect(code).not.toBe(0);
    expect(Date.now() - t0).toBeLessThan(10_000);
    expect(await new Response(p.stderr).text()).toMatch(/VPP exited/);
  }, 30_000);

  vtest("VPP killed under a bench run: bench reports it and exits non-zero within 10 s", async () => {
    const p = Bun.spawn([process.execPath, BENCH, "--backend", "vpp", "--connections", "4", "--duration", "30s", "--warmup", "0s"], { stdout: "pipe", stderr: "pipe", env: { ...process.env, CI: "1" } });
    const deadline = Date.now() + 30_000;
    while (vppProcs().length === 0 && Date.now() < deadline) await Bun.sleep(100);
    await Bun.sleep(3000); // the server started and the load is running
    for (const pid of vppProcs()) process.kill(pid, "SIGKILL");
    const t0 = Date.now();
    const code = await Promise.race([p.exited, Bun.sleep(10_000).then(() => "hung")]);
    if (code === "hung") p.kill("SIGKILL");
    expect(code).not.toBe("hung");
    expect(code).not.toBe(0);
    expect(Date.now() - t0).toBeLessThan(10_000);
    expect(await new Response(p.stderr).text()).toMatch(/VPP exited/);
  }, 60_000);
});
