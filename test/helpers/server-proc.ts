/**
 * The server CLI as a child whose whole stdout and stderr the test keeps
 * (collected as they come), for tests of how it starts, fails and stops.
 */
import { SERVER } from "./cli.ts";
import { parseReadyLine } from "../../src/common/ready-line.ts";

/** A server child and everything it printed so far. */
export interface ServerProc {
  proc: ReturnType<typeof Bun.spawn>;
  out(): string;
  err(): string;
  /** Resolves once it printed a ready line (its port), or null when it exited first or timed out. */
  ready(timeoutMs?: number): Promise<number | null>;
  /** Exit code, SIGKILLing it after timeoutMs; stdout/stderr fully read. */
  exited(timeoutMs?: number): Promise<number>;
}

/** Starts `server ARGS` (kernel backend unless ARGS say otherwise). */
export function spawnServer(args: string[], env: Record<string, string> = {}): ServerProc {
  const proc = Bun.spawn([process.execPath, SERVER, ...args], { stdin: "ignore", stdout: "pipe", stderr: "pipe", env: { ...process.env, ...env } });
  let out = "";
  let err = "";
  const pump = async (s: ReadableStream<Uint8Array>, add: (t: string) => void) => {
    const dec = new TextDecoder();
    for await (const c of s) add(dec.decode(c, { stream: true }));
  };
  const pumps = Promise.all([pump(proc.stdout, (t) => (out += t)), pump(proc.stderr, (t) => (err += t))]);
  return {
    proc,
    out: () => out,
    err: () => err,
    async ready(timeoutMs = 20_000) {
      const deadline = Date.now() + timeoutMs;
      while (Date.now() < deadline) {
        const r = parseReadyLine(out);
        if (r) return r.port;
        if (proc.exitCode !== null || proc.signalCode !== null) return null;
        await Bun.sleep(20);
      }
      return null;
    },
    async exited(timeoutMs = 20_000) {
      const timer = setTimeout(() => proc.kill("SIGKILL"), timeoutMs);
      const code = await proc.exited;
      clearTimeout(timer);
      await pumps;
      return code;
    },
  };
}
