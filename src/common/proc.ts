/** A process's state as /proc shows it (Linux). */
import { readdirSync, readFileSync } from "node:fs";

/** A process's state letter from /proc ("R", "S", "Z", ...), or "gone". */
export function procState(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/stat`, "utf8").match(/\) (\w) /)?.[1] ?? "?";
  } catch {
    return "gone";
  }
}

/** Direct children of a process (every thread's children, from /proc). */
export function childPids(pid: number): number[] {
  return readdirSync(`/proc/${pid}/task`).flatMap((t) => readFileSync(`/proc/${pid}/task/${t}/children`, "utf8").trim().split(/\s+/).filter(Boolean).map(Number));
}

/** Resident set size of one process, in KiB. */
export function rssKiB(pid: number): number {
  return Number(readFileSync(`/proc/${pid}/status`, "utf8").match(/VmRSS:\s+(\d+)/)![1]);
}

/** The parent pid of every process on the machine (processes that vanish while read are left out). */
export function parentPids(): Map<number, number> {
  const out = new Map<number, number>();
  for (const p of readdirSync("/proc")) {
    if (!/^\d+$/.test(p)) continue;
    try {
      const stat = readFileSync(`/proc/${p}/stat`, "utf8");
      out.set(Number(p), Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]));
    } catch {}
  }
  return out;
}

/** True while pid runs (a zombie, exited but not yet reaped, is not alive). */
export const alive = (pid: number) => {
  const s = procState(pid);
  return s !== "Z" && s !== "gone";
};
