/** A process's state as /proc shows it (Linux). */
import { readFileSync } from "node:fs";

/** A process's state letter from /proc ("R", "S", "Z", ...), or "gone". */
export function procState(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/stat`, "utf8").match(/\) (\w) /)?.[1] ?? "?";
  } catch {
    return "gone";
  }
}

/** True while pid runs (a zombie, exited but not yet reaped, is not alive). */
export const alive = (pid: number) => {
  const s = procState(pid);
  return s !== "Z" && s !== "gone";
};
