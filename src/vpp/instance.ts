/**
 * A private VPP instance per run: a 0700 runtime directory, its own
 * api-segment prefix, a generated startup.conf, VPP started under
 * vlsb-supervise (so it dies, and the directory goes, even when vlsbench is
 * SIGKILLed), ready when vppctl answers and the app socket exists.
 * Every program runs from an argument array, never a shell string.
 */
import { mkdtempSync, writeFileSync, existsSync, readFileSync, rmSync, chmodSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { randomBytes } from "node:crypto";
import type { Subprocess } from "bun";
import { startupConf, stackTopologyCommands, vclConf, VCL_DEFAULTS, type VclAttach, type VclOptions } from "./config.ts";
import type { VppInstall } from "./find.ts";
import { nativeProgram } from "../native/paths.ts";

/** cut-through: both apps in the default namespace; stack: through VPP's TCP. */
export type Topology = "cut-through" | "stack";

/** A running (or attached) VPP. */
export interface VppInstance {
  run: string;
  cliSock: string;
  topology: Topology;
  /** Attachment of the server ("server") or the load generator ("client"). */
  attach(side: "server" | "client"): VclAttach;
  /** Writes a vcl.conf for one side and mode; returns its path. */
  writeVcl(side: "server" | "client", mode: "single" | "thread" | "process", o?: VclOptions): string;
  vppctl(args: string[]): Promise<{ code: number; out: string }>;
  /** Resolves when VPP exits (never for an attached instance). */
  exited: Promise<number>;
  logTail(lines?: number): string;
  stop(): Promise<void>;
}

const READY_TIMEOUT_MS = 20_000;

async function run(cmd: string[], timeoutMs = 5000): Promise<{ code: number; out: string }> {
  const p = Bun.spawn(cmd, { stdout: "pipe", stderr: "pipe", stdin: "ignore" });
  const t = setTimeout(() => p.kill("SIGKILL"), timeoutMs);
  const [out, err, code] = await Promise.all([new Response(p.stdout).text(), new Response(p.stderr).text(), p.exited]);
  clearTimeout(t);
  return { code, out: out + err };
}

/** Starts a private VPP. Throws with the tail of VPP's log if it does not come up. */
export async function startVpp(install: VppInstall, topology: Topology, opts: { pollSleepUs?: number } = {}): Promise<VppInstance> {
  const runDir = mkdtempSync(join(tmpdir(), "vlsbench-vpp-"));
  chmodSync(runDir, 0o700);
  const prefix = `vlsb${process.pid}${randomBytes(3).toString("hex")}`;
  const logFile = process.env.VLSB_VPP_LOG || join(runDir, "vpp.log");
  writeFileSync(join(runDir, "startup.conf"), startupConf(runDir, prefix, { ...opts, logFile }), { mode: 0o600 });
  const proc: Subprocess = Bun.spawn([nativeProgram("vlsb-supervise"), "--rmdir", runDir, "--", install.vpp, "-c", join(runDir, "startup.conf")], {
    stdin: "ignore",
    stdout: "ignore",
    stderr: "ignore",
    env: { ...process.env, LD_LIBRARY_PATH: [join(install.libvppcom, ".."), process.env.LD_LIBRARY_PATH].filter(Boolean).join(":") },
  });
  const cliSock = join(runDir, "cli.sock");
  const secrets: [string, string] = [String(randomBytes(6).readUIntBE(0, 6)), String(randomBytes(6).readUIntBE(0, 6))];
  const inst = makeInstance(install, runDir, cliSock, topology, secrets, proc, logFile);
  const deadline = Date.now() + READY_TIMEOUT_MS;
  let up = false;
  while (Date.now() < deadline && proc.exitCode === null) {
    if (existsSync(cliSock) && (await inst.vppctl(["show", "version"])).code === 0 && existsSync(join(runDir, "app_ns_sockets", "default"))) {
      up = true;
      break;
    }
    // Short polls: VPP is up in ~300 ms here, and every compare run starts one.
    await Bun.sleep(20);
  }
  if (!up) {
    const tail = inst.logTail();
    await inst.stop();
    throw new Error(`VPP did not become ready within ${READY_TIMEOUT_MS / 1000} s${proc.exitCode !== null ? ` (exited ${proc.exitCode})` : ""}; log tail: ${tail || "(empty)"}`);
  }
  if (topology === "stack") {
    for (const cmd of stackTopologyCommands(secrets)) {
      const r = await inst.vppctl(cmd);
      if (r.code !== 0 || /unknown|error/i.test(r.out)) {
        await inst.stop();
        throw new Error(`vppctl ${cmd.join(" ")} failed: ${r.out.trim()}`);
      }
    }
    for (const ns of ["1", "2"]) {
      const sock = join(runDir, "app_ns_sockets", ns);
      const until = Date.now() + 5000;
      while (!existsSync(sock) && Date.now() < until) await Bun.sleep(50);
    }
  }
  return inst;
}

/** Attaches to a VPP started elsewhere (its app socket path given). */
export function attachVpp(install: VppInstall, appSocket: string, namespace?: { id: string; secret: string }): VppInstance {
  const runDir = mkdtempSync(join(tmpdir(), "vlsbench-vcl-"));
  chmodSync(runDir, 0o700);
  const inst = makeInstance(install, runDir, "", "cut-through", ["", ""], null, "");
  const attach = { appSocket, namespace };
  return { ...inst, attach: () => attach, writeVcl: (side, mode, o) => writeVclFile(runDir, side, attach, mode, o) };
}

function writeVclFile(dir: string, side: string, attach: VclAttach, mode: "single" | "thread" | "process", o: VclOptions = VCL_DEFAULTS): string {
  const path = join(dir, `vcl-${side}-${mode}.conf`);
  writeFileSync(path, vclConf(attach, mode, o), { mode: 0o600 });
  return path;
}

function makeInstance(install: VppInstall, runDir: string, cliSock: string, topology: Topology, secrets: [string, string], proc: Subprocess | null, logFile: string): VppInstance {
  const attach = (side: "server" | "client"): VclAttach => {
    if (topology === "cut-through") return { appSocket: join(runDir, "app_ns_sockets", "default") };
    const id = side === "server" ? "1" : "2";
    return { appSocket: join(runDir, "app_ns_sockets", id), namespace: { id, secret: secrets[side === "server" ? 0 : 1] } };
  };
  return {
    run: runDir,
    cliSock,
    topology,
    attach,
    writeVcl: (side, mode, o) => writeVclFile(runDir, side, attach(side), mode, o),
    vppctl: (args) => run([install.vppctl, "-s", cliSock, ...args]),
    exited: proc ? proc.exited : new Promise<number>(() => {}),
    logTail(lines = 8) {
      try {
        return readFileSync(logFile, "utf8").trim().split("\n").slice(-lines).join(" | ");
      } catch {
        return "";
      }
    },
    async stop() {
      if (proc && proc.exitCode === null) {
        proc.kill("SIGTERM");
        const done = await Promise.race([proc.exited.then(() => true), Bun.sleep(5000).then(() => false)]);
        if (!done) proc.kill("SIGKILL");
        await proc.exited;
      }
      rmSync(runDir, { recursive: true, force: true });
    },
  };
}
