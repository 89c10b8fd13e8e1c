/**
 * Runs `bun run server` as a child process for a bench run: waits for its
 * ready line (bounded), and on stop sends SIGTERM and reads its final
 * counters (--counters-json), with SIGKILL as the bounded fallback.
 */
import { join } from "node:path";
import type { Subprocess } from "bun";
import { parseReadyLine } from "../common/ready-line.ts";

/** Options of the server child. */
export interface ServerChildOptions {
  backend: string;
  mode: string;
  workers: number;
  host: string;
  extraArgs?: string[];
}

/** A started server child. */
export interface ServerChild {
  host: string;
  port: number;
  readyLine: string;
  proc: Subprocess<"ignore", "pipe", "pipe">;
  /** Stops it; resolves to its counters report, or null if it had died. */
  stop(): Promise<unknown | null>;
}

const SERVER = join(import.meta.dir, "..", "cli", "server.ts");

/** Starts the server child on a free port (port 0). */
export async function startServerChild(o: ServerChildOptions, readyTimeoutMs = 20_000): Promise<ServerChild> {
  const proc = Bun.spawn(
    [process.execPath, SERVER, "--backend", o.backend, "--mode", o.mode, "--workers", String(o.workers), "--host", o.host, "--port", "0", "--counters-json", ...(o.extraArgs ?? [])],
    // VLSB_PARENT_PID: the server exits when this process is gone, so a
    // bench that dies (even by SIGKILL) leaves no server behind.
    { stdin: "ignore", stdout: "pipe", stderr: "pipe", env: { ...process.env, VLSB_PARENT_PID: String(process.pid) } },
  );
  const reader = proc.stdout.getReader();
  const dec = new TextDecoder();
  let buf = "";
  const readLine = async (deadline: number): Promise<string | null> => {
    for (;;) {
      const nl = buf.indexOf("\n");
      if (nl >= 0) {
        const line = buf.slice(0, nl);
        buf = buf.slice(nl + 1);
        return line;
      }
      const left = deadline - Date.now();
      if (left <= 0) return null;
      const r = await Promise.race([reader.read(), Bun.sleep(left).then(() => null)]);
      if (r === null) return null;
      if (r.done) return null;
      buf += dec.decode(r.value);
    }
  };
  const line = await readLine(Date.now() + readyTimeoutMs);
  const ready = line === null ? null : parseReadyLine(line);
  if (!ready) {
    proc.kill("SIGKILL");
    const err = await new Response(proc.stderr).text();
    throw new Error(`server child did not become ready: ${line ?? "no ready line"} ${err.trim().split("\n").slice(-3).join(" | ")}`);
  }
  return {
    host: ready.host,
    port: ready.port,
    readyLine: line!,
    proc,
    async stop() {
      if (proc.exitCode !== null || proc.signalCode !== null) return null;
      proc.kill("SIGTERM");
      const deadline = Date.now() + 5000;
      let counters: unknown | null = null;
      for (;;) {
        const l = await readLine(deadline);
        if (l === null) break;
        if (l.startsWith("{")) {
          try {
            counters = (JSON.parse(l) as { counters: unknown }).counters;
          } catch {}
          break;
        }
      }
      const exited = await Promise.race([proc.exited.then(() => true), Bun.sleep(Math.max(0, deadline - Date.now())).then(() => false)]);
      if (!exited) proc.kill("SIGKILL");
      return counters;
    },
  };
}
