/**
 * CPU time per message: what the server (its process, every thread, and
 * every process it forked, e.g. process mode's native workers) and the load
 * generator (this process, all its threads) spent in user and system time
 * over the measured window, from the kernel's accounting in /proc/PID/stat.
 * Sampled once at the start of the window (after the warm-up) and once at
 * its end; the figures are those differences divided by the messages the
 * window measured.
 */
import { readFileSync, readdirSync } from "node:fs";
import { spawnSync } from "node:child_process";

/** User and system CPU time, microseconds. */
export interface CpuTime {
  userUs: number;
  sysUs: number;
}

/** One side's cost over the window: totals and per message. */
export interface CpuSide extends CpuTime {
  userUsPerMsg: number;
  sysUsPerMsg: number;
  totalUsPerMsg: number;
  /** Processes accounted (the process itself and its descendants at the end of the window). */
  processes: number;
}

/** What the JSON report's `cpu` holds (docs/bench-json.md). */
export interface CpuReport {
  /** Wall time between the two samples, seconds. */
  windowSec: number;
  /** The divisor: the messages measured while sampled (the run's messages, scaled down when a sample came late). */
  messages: number;
  /** Online CPUs: a side's CPU per message is below windowSec x cores / messages. */
  cores: number;
  /** The started server; null when bench did not start it (--target). */
  server: CpuSide | null;
  loadgen: CpuSide;
}

let tickUs = 0;
/** Microseconds per clock tick (the unit of utime/stime): 1e6 / CLK_TCK. */
function usPerTick(): number {
  if (tickUs) return tickUs;
  const r = spawnSync("getconf", ["CLK_TCK"], { encoding: "utf8" });
  const hz = Number(r.stdout?.trim());
  tickUs = 1e6 / (Number.isFinite(hz) && hz > 0 ? hz : 100);
  return tickUs;
}

/** A process's user and system time (all its threads, live and exited), or null when it is gone. */
export function procCpu(pid: number | "self"): CpuTime | null {
  let s: string;
  try {
    s = readFileSync(`/proc/${pid}/stat`, "utf8");
  } catch {
    return null;
  }
  // Fields after the command name (which may hold spaces and parentheses):
  // state is field 3, utime 14, stime 15.
  const f = s.slice(s.lastIndexOf(")") + 2).split(" ");
  const t = usPerTick();
  return { userUs: Number(f[11]) * t, sysUs: Number(f[12]) * t };
}

/** pid and its descendants (every thread's children, recursively). */
export function procTree(pid: number): number[] {
  const out: number[] = [];
  const todo = [pid];
  while (todo.length) {
    const p = todo.pop()!;
    out.push(p);
    let tasks: string[];
    try {
      tasks = readdirSync(`/proc/${p}/task`);
    } catch {
      continue;
    }
    for (const t of tasks) {
      try {
        for (const c of readFileSync(`/proc/${p}/task/${t}/children`, "utf8").split(" ")) if (c) todo.push(Number(c));
      } catch {}
    }
  }
  return out;
}

type Sample = Map<number, CpuTime>;

function sampleTree(pid: number): Sample {
  const m: Sample = new Map();
  for (const p of procTree(pid)) {
    const c = procCpu(p);
    if (c) m.set(p, c);
  }
  return m;
}

/** Sum over the processes of `end` of their time since `start` (a process new since then counts from 0). */
function delta(start: Sample, end: Sample): CpuTime {
  const d = { userUs: 0, sysUs: 0 };
  for (const [p, e] of end) {
    const s = start.get(p) ?? { userUs: 0, sysUs: 0 };
    d.userUs += Math.max(0, e.userUs - s.userUs);
    d.sysUs += Math.max(0, e.sysUs - s.sysUs);
  }
  return d;
}

/** A side's totals and figures per message. */
export function cpuSide(t: CpuTime, messages: number, processes: number): CpuSide {
  const per = (x: number) => (messages > 0 ? x / messages : NaN);
  return { userUs: t.userUs, sysUs: t.sysUs, userUsPerMsg: per(t.userUs), sysUsPerMsg: per(t.sysUs), totalUsPerMsg: per(t.userUs + t.sysUs), processes };
}

/**
 * The measured window of one run: `start()` when the warm-up ends, `end()`
 * when the window closes (a second call of either does nothing), then
 * `report(...)`. The server side is sampled only with a server pid. `now`
 * is the clock of the window's bounds (ns).
 */
export class CpuWindow {
  private t0 = 0;
  private t1 = 0;
  private self0: CpuTime | null = null;
  private self1: CpuTime | null = null;
  private srv0: Sample | null = null;
  private srv1: Sample | null = null;

  constructor(private readonly serverPid: number | null, private readonly now: () => number = () => performance.now() * 1e6) {}

  start(): void {
    if (this.self0) return;
    this.t0 = this.now();
    this.self0 = procCpu("self");
    this.srv0 = this.serverPid ? sampleTree(this.serverPid) : null;
  }

  end(): void {
    if (!this.self0 || this.self1) return;
    this.t1 = this.now();
    this.self1 = procCpu("self");
    this.srv1 = this.serverPid ? sampleTree(this.serverPid) : null;
  }

  /**
   * The window's report, or null when it never started (or /proc is
   * unreadable). `messages` were measured over [startNs, endNs]; a sample
   * taken late (a busy machine delays timers) covers part of that span, so
   * the divisor is the messages of the overlap at the window's mean rate.
   */
  report(messages: number, window: { startNs: number; endNs: number } | null): CpuReport | null {
    this.end();
    if (!this.self0 || !this.self1) return null;
    let divisor = messages;
    if (window && window.endNs > window.startNs) {
      const overlap = Math.max(0, Math.min(this.t1, window.endNs) - Math.max(this.t0, window.startNs));
      divisor = (messages * overlap) / (window.endNs - window.startNs);
    }
    const lg = { userUs: this.self1.userUs - this.self0.userUs, sysUs: this.self1.sysUs - this.self0.sysUs };
    return {
      windowSec: (this.t1 - this.t0) / 1e9,
      messages: divisor,
      cores: navigator.hardwareConcurrency,
      server: this.srv0 && this.srv1 ? cpuSide(delta(this.srv0, this.srv1), divisor, this.srv1.size) : null,
      loadgen: cpuSide(lg, divisor, 1),
    };
  }
}

/** Several windows (a size sweep's rows) as one: times and messages added. */
export function combineCpu(rs: (CpuReport | null)[]): CpuReport | null {
  if (!rs.length || rs.some((r) => r === null)) return null;
  const all = rs as CpuReport[];
  const messages = all.reduce((a, r) => a + r.messages, 0);
  const sum = (f: (r: CpuReport) => CpuSide | null): CpuSide | null => {
    if (all.some((r) => f(r) === null)) return null;
    const t = { userUs: 0, sysUs: 0 };
    for (const r of all) {
      t.userUs += f(r)!.userUs;
      t.sysUs += f(r)!.sysUs;
    }
    return cpuSide(t, messages, Math.max(...all.map((r) => f(r)!.processes)));
  };
  return { windowSec: all.reduce((a, r) => a + r.windowSec, 0), messages, cores: all[0].cores, server: sum((r) => r.server), loadgen: sum((r) => r.loadgen)! };
}

const f2 = (v: number) => (Number.isNaN(v) ? "-" : v.toFixed(2));

/** The report's CPU line. */
export function cpuLine(c: CpuReport | null | undefined): string {
  if (!c) return "  cpu per message: not measured (the window never started, or /proc is unreadable)";
  const side = (s: CpuSide) => `${f2(s.totalUsPerMsg)} (user ${f2(s.userUsPerMsg)}, sys ${f2(s.sysUsPerMsg)})`;
  const srv = c.server ? `server ${side(c.server)}${c.server.processes > 1 ? ` over ${c.server.processes} processes` : ""}` : "server not started by bench: not measured";
  return `  cpu per message (us)  ${srv}   load generator ${side(c.loadgen)}   over ${c.windowSec.toFixed(1)} s, ${c.cores} cores`;
}
