/**
 * What a scenario learns of processes and descriptors from /proc, and how
 * it stops and waits for its forked children (lib.ts re-exports these).
 */
import { readdirSync, readlinkSync, readFileSync } from "node:fs";
import { raw } from "../../native/ffi.ts";
import { alive } from "../../common/proc.ts";

const nowMs = () => performance.now();

/** Open file descriptors of this process. */
export const fdCount = () => readdirSync("/proc/self/fd").length;
/** Open TCP socket descriptors of this process (every connected or listening VCL session has one; stdio sockets do not count). */
export function socketCount(): number {
  const tcp = new Set<string>();
  for (const f of ["/proc/self/net/tcp", "/proc/self/net/tcp6"]) {
    try {
      for (const line of readFileSync(f, "utf8").split("\n").slice(1)) {
        const inode = line.trim().split(/\s+/)[9];
        if (inode && inode !== "0") tcp.add(inode);
      }
    } catch {}
  }
  let n = 0;
  for (const fd of readdirSync("/proc/self/fd")) {
    try {
      const m = readlinkSync(`/proc/self/fd/${fd}`).match(/^socket:\[(\d+)\]$/);
      if (m && tcp.has(m[1])) n++;
    } catch {}
  }
  return n;
}

/**
 * SIGTERMs forked children and polls the parent's epoll set `pep` (where
 * VLS runs its SIGCHLD cleanup) until they are gone, at most `ms`; then
 * reaps them. Returns what vlsb_reap_children reaped.
 */
export async function stopChildren(pids: number[], pep: number, evs: Uint32Array, ms = 5000): Promise<number> {
  for (const pid of pids) process.kill(pid, "SIGTERM");
  const t0 = nowMs();
  while (pids.some(alive) && nowMs() - t0 < ms) {
    raw.vlsb_epoll_wait(pep, evs, 16, 0);
    await Bun.sleep(5);
  }
  return raw.vlsb_reap_children();
}

/** SIGKILLs pid, then waits (at most 3 s, making no VLS call) until it is
 * dead and `handled()` says the JS SIGCHLD handler has run. */
export async function killAndAwaitSigchld(pid: number, handled: () => boolean): Promise<void> {
  process.kill(pid, "SIGKILL");
  const t0 = nowMs();
  while (alive(pid) || !handled()) {
    if (nowMs() - t0 > 3000) return;
    await Bun.sleep(5);
  }
}
