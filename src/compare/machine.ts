/** A description of the machine a comparison ran on, for the report. */
import { readFileSync } from "node:fs";
import { cpus, release, totalmem } from "node:os";

/** CPU, cores, memory, kernel, Bun and VPP versions. */
export interface Machine {
  cpu: string;
  cores: number;
  memoryGiB: number;
  kernel: string;
  bun: string;
  vpp: string | null;
  date: string;
}

/** Reads the machine description; vppVersion comes from `vppctl show version` when VPP was used. */
export function describeMachine(vppVersion: string | null): Machine {
  let cpu = cpus()[0]?.model ?? "unknown";
  try {
    cpu = readFileSync("/proc/cpuinfo", "utf8").match(/model name\s*:\s*(.+)/)?.[1] ?? cpu;
  } catch {}
  return { cpu, cores: cpus().length, memoryGiB: Math.round(totalmem() / 2 ** 30), kernel: release(), bun: Bun.version, vpp: vppVersion, date: new Date().toISOString() };
}
