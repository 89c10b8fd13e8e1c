/** Connect/echo/close cycles against a server, and its fd and RSS readings. */
import { connect } from "node:net";
import { readdirSync } from "node:fs";
import { childPids, rssKiB } from "../../src/common/proc.ts";

/** One connect, 64-byte echo, close. Resolves false on any failure. */
function cycle(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect({ host: "127.0.0.1", port });
    const msg = Buffer.alloc(64, 0x5a);
    let got = 0;
    s.on("connect", () => s.write(msg));
    s.on("data", (d: Buffer) => {
      got += d.length;
      if (got >= 64) {
        s.end();
        s.destroy();
        resolve(true);
      }
    });
    s.on("error", () => resolve(false));
  });
}

/** Runs n cycles with `parallel` in flight; returns failures. */
export async function churn(port: number, n: number, parallel = 32): Promise<number> {
  let next = 0;
  let failed = 0;
  await Promise.all(
    Array.from({ length: parallel }, async () => {
      while (next < n) {
        next++;
        if (!(await cycle(port))) failed++;
      }
    }),
  );
  return failed;
}

/** Pids of a process and its direct children. */
const family = (pid: number): number[] => [pid, ...childPids(pid)];

/** Open fds of a process and its children. */
export function fdCount(pid: number): number {
  return family(pid).reduce((a, p) => a + readdirSync(`/proc/${p}/fd`).length, 0);
}

/** RSS in KiB of a process and its children. */
export function rssKb(pid: number): number {
  return family(pid).reduce((a, p) => a + rssKiB(p), 0);
}
