/**
 * Service-level objectives: `--slo "p99<500us,p999<2ms,errors=0"`. Each
 * term is METRIC OP VALUE:
 *
 * - latency: min, mean, max, p50, p90, p99, p999 (99.9), p9999 (99.99),
 *   or any percentile written with a dot (p99.95); values with a unit
 *   ns, us, ms or s (a bare number is microseconds). Open loop: the
 *   corrected latency.
 * - counts: errors (every kind), connect, read, write, verify, timeout,
 *   lost, corrupt, duplicated, reordered.
 * - rate: achieved messages per second (a number, k or m suffix allowed).
 *
 * OP is one of < <= > >= =. Terms are evaluated on a run's result;
 * any failing term makes bench exit 1.
 */
import type * as hdr from "hdr-histogram-js";
import { UsageError } from "../common/args.ts";

/** One parsed term. */
export interface SloTerm {
  text: string;
  metric: string;
  /** Percentile for latency terms (min = 0, max = 100), null otherwise. */
  percentile: number | null;
  kind: "latency" | "count" | "rate";
  op: "<" | "<=" | ">" | ">=" | "=";
  /** Latency in µs, else the number. */
  value: number;
}

/** What a term is checked against. */
export interface SloInput {
  /** Corrected latency histogram, values in ns. */
  histogram: hdr.Histogram;
  /** Counts by name (errors, connect, ..., lost, ...); absent = unknown. */
  counts: Record<string, number | undefined>;
  /** Achieved msgs/s, if known. */
  rate: number | null;
}

/** A term's outcome. */
export interface SloOutcome {
  term: string;
  /** The measured value (µs for latency), null when unknown. */
  actual: number | null;
  unit: string;
  pass: boolean;
}

const COUNTS = ["errors", "connect", "read", "write", "verify", "timeout", "lost", "corrupt", "duplicated", "reordered"];
const UNITS: Record<string, number> = { ns: 1e-3, us: 1, "µs": 1, ms: 1e3, s: 1e6 };

function percentileOf(metric: string): number | null {
  if (metric === "min") return 0;
  if (metric === "max") return 100;
  const m = metric.match(/^p(\d+(?:\.\d+)?)$/);
  if (!m) return null;
  const d = m[1];
  const p = d.includes(".") || d.length <= 2 || d === "100" ? Number(d) : Number(`${d.slice(0, 2)}.${d.slice(2)}`);
  return p > 0 && p <= 100 ? p : null;
}

/** Parses a --slo spec; throws UsageError naming the bad term. */
export function parseSlo(spec: string): SloTerm[] {
  const terms = spec.split(",").map((t) => t.trim());
  if (terms.some((t) => t === "")) throw new UsageError(`--slo has an empty term in '${spec}'`);
  return terms.map((text) => {
    const m = text.match(/^([a-z0-9.]+)\s*(<=|>=|<|>|==?)\s*(\S+)$/i);
    if (!m) throw new UsageError(`--slo term must be METRIC<VALUE like p99<500us or errors=0, got '${text}'`);
    const metric = m[1].toLowerCase();
    const op = (m[2] === "==" ? "=" : m[2]) as SloTerm["op"];
    const raw = m[3];
    if (metric === "mean" || percentileOf(metric) !== null) {
      const v = raw.match(/^(\d+(?:\.\d+)?)(ns|us|µs|ms|s)?$/);
      if (!v) throw new UsageError(`--slo latency must be a time like 500us or 2ms, got '${raw}' in '${text}'`);
      return { text, metric, percentile: metric === "mean" ? null : percentileOf(metric), kind: "latency", op, value: Number(v[1]) * UNITS[v[2] ?? "us"] };
    }
    const v = raw.toLowerCase().match(/^(\d+(?:\.\d+)?)(k|m)?$/);
    if (!v) throw new UsageError(`--slo value must be a number, got '${raw}' in '${text}'`);
    const value = Number(v[1]) * (v[2] === "k" ? 1e3 : v[2] === "m" ? 1e6 : 1);
    if (COUNTS.includes(metric)) return { text, metric, percentile: null, kind: "count", op, value };
    if (metric === "rate") return { text, metric, percentile: null, kind: "rate", op, value };
    throw new UsageError(`--slo metric must be a latency (p99, p999, mean, max, ...), a count (errors, lost, ...) or rate, got '${metric}'`);
  });
}

/** ns -> µs at 0.01 µs, as in the report's latency table. */
const us = (ns: number) => Math.round(ns / 10) / 100;

const compare = (a: number, op: SloTerm["op"], b: number) => (op === "<" ? a < b : op === "<=" ? a <= b : op === ">" ? a > b : op === ">=" ? a >= b : a === b);

/** Evaluates every term on one result. */
export function evaluateSlo(terms: SloTerm[], input: SloInput): SloOutcome[] {
  const h = input.histogram;
  return terms.map((t) => {
    let actual: number | null;
    if (t.kind === "latency") {
      if (h.totalCount === 0) actual = null;
      else if (t.metric === "mean") actual = us(h.mean);
      else if (t.percentile === 0) actual = us(h.minNonZeroValue);
      else if (t.percentile === 100) actual = us(h.maxValue);
      else actual = us(Math.min(h.getValueAtPercentile(t.percentile!), h.maxValue));
    } else if (t.kind === "count") actual = input.counts[t.metric] ?? null;
    else actual = input.rate;
    return { term: t.text, actual, unit: t.kind === "latency" ? "us" : t.kind === "rate" ? "msgs/s" : "", pass: actual !== null && compare(actual, t.op, t.value) };
  });
}

/** The report lines of the outcomes, one per term. */
export function formatSlo(out: SloOutcome[], prefix = ""): string[] {
  const w = Math.max(...out.map((o) => o.term.length));
  return out.map((o) => `  slo ${prefix}${o.term.padEnd(w)}  ${o.actual === null ? "unknown" : `${o.actual}${o.unit ? " " + o.unit : ""}`}  ${o.pass ? "pass" : "FAIL"}`);
}
