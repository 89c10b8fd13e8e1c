/**
 * The VLS app of a scenario process, on its backend, and the peers it talks
 * to.
 *
 * kernel: the embedded model; peers are kernel sockets in this process.
 * vpp:    a private VPP (cut-through) started for this one scenario; this
 *         process attaches as the "server" app in the scenario's mode. A
 *         VCL app cannot usefully connect to its own listener, so peers are
 *         other VCL apps on the same VPP, in other processes: the native
 *         echo loop (vlsb-echo) to connect to, and vlsbench's load
 *         generator (bench --vpp-socket) to connect in and verify echoes.
 * The VPP goes when the scenario ends ({@link scenario} awaits
 * {@link stopApp}); vlsb-supervise removes it even if the process dies.
 */
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { appInit, listenTcpAnyPort, type BackendName, type ModeName } from "../../native/vls.ts";
import { raw, check } from "../../native/ffi.ts";
import { findVpp, vppNotFoundReason, type VppInstall } from "../../vpp/find.ts";
import { startVpp, type VppInstance } from "../../vpp/instance.ts";
import { nativeProgram } from "../../native/paths.ts";

const BENCH = join(import.meta.dir, "..", "..", "cli", "bench.ts");

/** A peer echo server in another VCL app. */
export interface PeerEcho {
  port: number;
  stop(): Promise<void>;
}

/** What verified echoes from another app found. */
export interface ClientEchoResult {
  ok: boolean;
  messages: number;
  errors: Record<string, number>;
  firstError: string | null;
}

let vpp: { install: VppInstall; inst: VppInstance } | null = null;

/**
 * A stage line of the scenario's setup (main thread), so a hang before the
 * scenario's own first step names it (a VPP slow to come up under load, an
 * attach that does not answer). lib.ts's stage() cannot be imported here:
 * lib imports this module.
 */
function setupStage(what: string): void {
  process.stderr.write(`stage: main: setup: ${what}\n`);
}

/**
 * argv run under vlsb-supervise: a peer never outlives this scenario
 * process, even when the watchdog SIGKILLs it (a relay or echo left behind
 * would keep polling a dead VPP).
 */
function supervised(argv: string[]): string[] {
  return [nativeProgram("vlsb-supervise"), "--grace-ms", "500", "--", ...argv];
}
const peers = new Set<PeerEcho>();

/** vlsb_app_init options for this process's app ("" on the kernel backend). */
export async function appOptionsFor(backend: BackendName, mode: ModeName): Promise<string> {
  if (backend === "kernel") return "";
  const install = findVpp();
  if (!install) throw new Error(vppNotFoundReason());
  if (!vpp) {
    setupStage("start a private VPP");
    vpp = { install, inst: await startVpp(install, "cut-through") };
  }
  const conf = vpp.inst.writeVcl("server", mode);
  return `lib=${install.libvppcom};vcl_config=${conf};app_name=scenario-${process.pid}`;
}

/**
 * Initialises this process's app on the backend (starting VPP for vpp).
 * `selfConnect`: the scenario connects to its own listeners; on VPP a relay
 * app is started for that ({@link startRelay}) and its port published in
 * VLSB_TEST_RELAY_PORT, which lib.ts's connect helpers use (Workers started
 * afterwards inherit it).
 */
export async function initApp(backend: BackendName, mode: ModeName, kernelOptions = "", opts: { selfConnect?: boolean } = {}): Promise<void> {
  const options = backend === "kernel" ? kernelOptions : await appOptionsFor(backend, mode);
  if (backend === "vpp") setupStage(`attach to VPP (${mode} mode)`);
  appInit(backend, mode, options);
  if (backend === "vpp" && opts.selfConnect) {
    setupStage("start the relay app");
    process.env.VLSB_TEST_RELAY_PORT = String(await startRelay());
  }
}

/**
 * Starts scenarios/relay.ts as another app on this scenario's VPP and
 * returns its port. VPP before mid-2026 never completes an app's connect to
 * a listener of its own app; through the relay (another app) it always
 * works, so every VPP version runs the same scenario.
 */
async function startRelay(): Promise<number> {
  const { install, inst } = requireVpp();
  const conf = inst.writeVcl("client", "single");
  const p = Bun.spawn(supervised([process.execPath, join(import.meta.dir, "relay.ts"), `lib=${install.libvppcom};vcl_config=${conf};app_name=relay-${process.pid}`]), { stdout: "pipe", stderr: "pipe", stdin: "ignore" });
  const first = await Promise.race([p.stdout.getReader().read().then((r) => new TextDecoder().decode(r.value ?? new Uint8Array())), Bun.sleep(10_000).then(() => "")]);
  const m = first.match(/^ready (\d+)/);
  if (!m) {
    p.kill("SIGKILL");
    throw new Error(`the relay did not start on VPP: ${first.trim()} ${(await new Response(p.stderr).text()).trim().slice(-500)}`);
  }
  peers.add({
    port: Number(m[1]),
    async stop() {
      p.kill("SIGTERM");
      await Promise.race([p.exited, Bun.sleep(3000).then(() => p.kill("SIGKILL"))]);
    },
  });
  return Number(m[1]);
}

/** A process-mode parent's start: the app, a listener on a free loopback
 * port, an epoll set of its own and an event buffer for it. */
export async function processModeParent(backend: BackendName) {
  await initApp(backend, "process");
  const { handle: l, port } = listenTcpAnyPort({ host: "127.0.0.1", port: 0 }, backend);
  const pep = check("vlsb_epoll_create", raw.vlsb_epoll_create());
  return { l, port, pep, evs: new Uint32Array(new ArrayBuffer(8 * 16)) };
}

function requireVpp() {
  if (!vpp) throw new Error("no VPP: call initApp(\"vpp\", ...) first");
  return vpp;
}

/** Starts vlsb-echo as another app on this scenario's VPP, on a free port. */
export async function startPeerEcho(): Promise<PeerEcho> {
  const { install, inst } = requireVpp();
  const conf = inst.writeVcl("client", "single");
  for (let attempt = 0; ; attempt++) {
    const port = 20000 + Math.floor(Math.random() * 40000);
    const p = Bun.spawn(supervised([nativeProgram("vlsb-echo"), "vpp", "127.0.0.1", String(port), `lib=${install.libvppcom};vcl_config=${conf};app_name=peer-${port}`]), { stdout: "pipe", stderr: "pipe", stdin: "ignore" });
    const first = await Promise.race([p.stdout.getReader().read().then((r) => new TextDecoder().decode(r.value ?? new Uint8Array())), Bun.sleep(10_000).then(() => "")]);
    if (first.startsWith("ready")) {
      const peer: PeerEcho = {
        port,
        async stop() {
          peers.delete(peer);
          p.kill("SIGTERM");
          await Promise.race([p.exited, Bun.sleep(3000).then(() => p.kill("SIGKILL"))]);
        },
      };
      peers.add(peer);
      return peer;
    }
    p.kill("SIGKILL");
    if (attempt >= 5) throw new Error(`vlsb-echo did not start on VPP: ${await new Response(p.stderr).text()}`);
  }
}

/**
 * Verified echoes from another VCL app: vlsbench's load generator attached to
 * this scenario's VPP sends `count` messages of `size` bytes over
 * `connections` connections to 127.0.0.1:port and checks every byte; a
 * connection whose echo takes over `echoTimeoutSec` counts as a timeout.
 */
export async function clientEcho(port: number, connections: number, count: number, size: number, timeoutMs = 30_000, echoTimeoutSec = 10): Promise<ClientEchoResult> {
  const { inst } = requireVpp();
  const file = join(mkdtempSync(join(tmpdir(), "vlsbench-client-")), "r.json");
  const args = ["--backend", "vpp", "--vpp-socket", inst.attach("client").appSocket, "--target", `127.0.0.1:${port}`, "--connections", String(connections), "--workers", String(Math.min(2, connections)), "--count", String(count), "--size", String(size), "--warmup", "0s", "--timeout", `${echoTimeoutSec}s`, "--json", file];
  const p = Bun.spawn(supervised([process.execPath, BENCH, ...args]), { stdout: "ignore", stderr: "pipe", stdin: "ignore", env: { ...process.env, CI: "1" } });
  const timer = setTimeout(() => p.kill("SIGKILL"), timeoutMs);
  const [err, code] = await Promise.all([new Response(p.stderr).text(), p.exited]);
  clearTimeout(timer);
  let j: any;
  try {
    j = JSON.parse(readFileSync(file, "utf8"));
  } catch {
    return { ok: false, messages: 0, errors: {}, firstError: `bench exited ${code} without a report: ${err.trim().slice(-500)}` };
  }
  const errors = { ...j.errors, ...j.integrity };
  const bad = Object.values(errors as Record<string, number>).some((n) => n > 0);
  return { ok: code === 0 && !bad && j.messages === count, messages: j.messages, errors, firstError: j.firstError ?? null };
}

/** Stops the peers and the scenario's VPP (nothing on the kernel backend). */
export async function stopApp(): Promise<void> {
  for (const p of [...peers]) await p.stop();
  if (vpp) await vpp.inst.stop();
  vpp = null;
}
