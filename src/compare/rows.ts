/** The figures of one comparison run, as the table, the HTML and diff use them. */
import type { CompareRun } from "./run.ts";
import { percentileUs } from "./spectrum.ts";

/** One row of the side-by-side table. */
export interface Row {
  label: string;
  backend: string;
  mode: string;
  point: string;
  /** CPU microseconds per message over the measured window: the server's (total, user, system) and the load generator's; NaN when not measured. */
  srvCpu: number;
  srvUser: number;
  srvSys: number;
  lgCpu: number;
  msgsPerSec: number;
  p50: number;
  p90: number;
  p99: number;
  p999: number;
  max: number;
  errors: number;
  migrationsOk: number;
  migrationsFailed: number;
  rpcP50: number;
  rpcP99: number;
  /** contended / acquired per lock class, for classes that were taken. */
  contention: Record<string, number>;
  acceptsMin: number;
  acceptsMax: number;
  accepts: number[];
}

type Native = { workers?: { index: number; accepts: number; migrationsOk: number; migrationsFailed: number; migrationsTimedOut: number }[]; locks?: Record<string, { acquired: number; contended: number }> };

/** Extracts a row from a run's bench report. */
export function rowOf(run: CompareRun): Row {
  const r = run.report;
  const l = r.latencyUs?.corrected ?? r.latencyUs;
  const counters = r.server?.counters ?? {};
  const native: Native = counters.native ?? {};
  const nw = native.workers ?? [];
  // Sessions each worker accepted from the listener: the Bun workers' own
  // counts in single and thread modes; in process mode the workers are forked
  // native children (VCL workers 1..N; worker 0 is the parent, which does not
  // accept).
  const bunWorkers: { accepted: number }[] = counters.workers ?? [];
  const accepts = bunWorkers.length ? bunWorkers.map((w) => w.accepted) : nw.filter((w) => w.index !== 0).map((w) => w.accepts);
  const contention: Record<string, number> = {};
  for (const [k, v] of Object.entries(native.locks ?? {})) if (v.acquired > 0) contention[k] = v.contended / v.acquired;
  const rpc: number[] = counters.rpcLatencyNs ?? [];
  const cpu = r.cpu ?? null;
  return {
    label: `${run.backend} ${run.mode} ${run.point === "rate" ? `@${Math.round(run.rate ?? 0)}/s` : "closed"}`,
    backend: run.backend,
    mode: run.mode,
    point: run.point,
    srvCpu: cpu?.server?.totalUsPerMsg ?? NaN,
    srvUser: cpu?.server?.userUsPerMsg ?? NaN,
    srvSys: cpu?.server?.sysUsPerMsg ?? NaN,
    lgCpu: cpu?.loadgen?.totalUsPerMsg ?? NaN,
    msgsPerSec: r.msgsPerSec,
    p50: l.p50,
    p90: l.p90,
    p99: l.p99,
    p999: l.p999,
    max: l.max,
    errors: Object.values(r.errors as Record<string, number>).reduce((a, b) => a + b, 0),
    migrationsOk: nw.reduce((a, w) => a + w.migrationsOk, 0),
    migrationsFailed: nw.reduce((a, w) => a + w.migrationsFailed + w.migrationsTimedOut, 0),
    rpcP50: percentileUs(rpc, 50),
    rpcP99: percentileUs(rpc, 99),
    contention,
    acceptsMin: accepts.length ? Math.min(...accepts) : NaN,
    acceptsMax: accepts.length ? Math.max(...accepts) : NaN,
    accepts,
  };
}

/** Microseconds: one decimal below 1000, none above (the digits beyond are noise). */
const us = (v: number) => v.toFixed(Math.abs(v) >= 1000 ? 0 : 1);

/** CPU microseconds per message: two decimals, "-" when not measured. */
const cpuUs = (v: number) => (Number.isNaN(v) ? "-" : v.toFixed(2));

/** Column definitions: name, value, and which direction is better. The
 * server's CPU per message comes first: what a mode costs. */
export const COLUMNS: { name: string; get: (r: Row) => number; better: "high" | "low" | "none"; fmt: (v: number) => string }[] = [
  { name: "srv cpu us/msg", get: (r) => r.srvCpu, better: "low", fmt: cpuUs },
  { name: "srv usr", get: (r) => r.srvUser, better: "none", fmt: cpuUs },
  { name: "srv sys", get: (r) => r.srvSys, better: "none", fmt: cpuUs },
  { name: "lg cpu us/msg", get: (r) => r.lgCpu, better: "low", fmt: cpuUs },
  { name: "msgs/s", get: (r) => r.msgsPerSec, better: "high", fmt: (v) => v.toFixed(0) },
  { name: "p50 us", get: (r) => r.p50, better: "low", fmt: us },
  { name: "p90 us", get: (r) => r.p90, better: "low", fmt: us },
  { name: "p99 us", get: (r) => r.p99, better: "low", fmt: us },
  { name: "p99.9 us", get: (r) => r.p999, better: "low", fmt: us },
  { name: "max us", get: (r) => r.max, better: "low", fmt: us },
  { name: "errors", get: (r) => r.errors, better: "low", fmt: (v) => v.toFixed(0) },
  { name: "migr ok", get: (r) => r.migrationsOk, better: "none", fmt: (v) => v.toFixed(0) },
  { name: "migr failed", get: (r) => r.migrationsFailed, better: "low", fmt: (v) => v.toFixed(0) },
  { name: "rpc p50 us", get: (r) => r.rpcP50, better: "low", fmt: (v) => (Number.isNaN(v) ? "-" : us(v)) },
  { name: "rpc p99 us", get: (r) => r.rpcP99, better: "low", fmt: (v) => (Number.isNaN(v) ? "-" : us(v)) },
  { name: "accepts min/max", get: (r) => (r.acceptsMax ? r.acceptsMin / r.acceptsMax : NaN), better: "high", fmt: () => "" },
];

/** The text of one cell. Accepts are unknown ("-") where no worker counts
 * them (process mode on VPP: the forked children are VPP's). */
export function cellText(c: (typeof COLUMNS)[number], r: Row): string {
  if (c.name !== "accepts min/max") return c.fmt(c.get(r));
  return Number.isNaN(r.acceptsMax) ? "-" : `${r.acceptsMin}/${r.acceptsMax}`;
}

/** Contended share per VLS lock; VPP's VLS keeps no lock counters. */
export function contentionText(r: Row, sep: string): string {
  if (r.backend.startsWith("vpp")) return "not observable (VPP's VLS keeps no lock counters)";
  return Object.entries(r.contention).map(([k, v]) => `${k} ${(v * 100).toFixed(2)}%`).join(sep) || "no VLS lock taken";
}
