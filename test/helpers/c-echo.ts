/** The project's minimal C epoll echo (native/build/c-echo) as a test server. */
import { nativeProgram, nativeVariant } from "../../src/native/paths.ts";
import { buildNative } from "../../scripts/build-native.mjs";
import { parseReadyLine } from "../../src/common/ready-line.ts";

/** A running c-echo. */
export interface CEcho {
  port: number;
  proc: ReturnType<typeof Bun.spawn>;
  stop(): Promise<void>;
}

/** Starts c-echo on a free port; resolves once it prints its ready line. */
export async function startCEcho(): Promise<CEcho> {
  buildNative({ variant: nativeVariant, quiet: true });
  const proc = Bun.spawn([nativeProgram("c-echo"), "0"], { stdout: "pipe", stderr: "ignore", stdin: "ignore" });
  const line = new TextDecoder().decode((await proc.stdout.getReader().read()).value ?? new Uint8Array());
  const ready = parseReadyLine(line);
  if (!ready) {
    proc.kill("SIGKILL");
    throw new Error(`c-echo did not start: ${line}`);
  }
  return {
    port: ready.port,
    proc,
    async stop() {
      proc.kill("SIGCONT");
      proc.kill("SIGKILL");
      await proc.exited;
    },
  };
}
