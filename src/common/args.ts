/**
 * Command-line helpers shared by every command (cli/) and the loaders of
 * files they name (loadgen/merge-command.ts, slo.ts): strict parsing with
 * node:util's parseArgs, unit suffixes, and the one rule for misuse: a
 * one-line reason on stderr and exit status 2.
 */
import { parseArgs, type ParseArgsConfig } from "node:util";

/** Thrown for any misuse; the CLI entry prints it and exits 2. */
export class UsageError extends Error {}

/** Parses argv strictly (unknown flags and stray arguments are errors). */
export function parseStrict<T extends NonNullable<ParseArgsConfig["options"]>>(argv: string[], options: T, allowPositionals = false) {
  try {
    return parseArgs({ args: argv, options, strict: true, allowPositionals });
  } catch (e) {
    throw new UsageError((e as Error).message.split("\n")[0]);
  }
}

/** Runs a CLI main: UsageError -> exit 2 with one line, other errors -> exit 1. */
export async function runCli(name: string, main: () => Promise<number | void>): Promise<never> {
  try {
    const code = await main();
    process.exit(code ?? 0);
  } catch (e) {
    if (e instanceof UsageError) {
      process.stderr.write(`${name}: ${e.message} (see --help)\n`);
      process.exit(2);
    }
    process.stderr.write(`${name}: ${(e as Error).message}\n`);
    process.exit(1);
  }
}

/** An integer flag within [min, max]. */
export function intFlag(name: string, v: string | undefined, def: number, min: number, max: number): number {
  if (v === undefined) return def;
  if (!/^-?\d+$/.test(v.trim())) throw new UsageError(`--${name} must be an integer, got '${v}'`);
  const n = Number(v);
  if (n < min || n > max) throw new UsageError(`--${name} must be between ${min} and ${max}, got ${n}`);
  return n;
}

/** One of a fixed set of words. */
export function choiceFlag<T extends string>(name: string, v: string | undefined, def: T, choices: readonly T[]): T {
  if (v === undefined) return def;
  if (!choices.includes(v as T)) throw new UsageError(`--${name} must be one of ${choices.join("|")}, got '${v}'`);
  return v as T;
}

const DUR: Record<string, number> = { us: 1e-6, ms: 1e-3, s: 1, m: 60, h: 3600 };
/** "10s", "500ms", "2m", "1.5s" or plain seconds -> seconds. */
export function durationFlag(name: string, v: string | undefined, def: number, max = 86400): number {
  if (v === undefined) return def;
  const m = v.trim().match(/^(\d+(?:\.\d+)?)(us|ms|s|m|h)?$/);
  if (!m) throw new UsageError(`--${name} must be a duration like 10s, 500ms or 2m, got '${v}'`);
  const sec = Number(m[1]) * DUR[m[2] ?? "s"];
  if (sec > max) throw new UsageError(`--${name} must be at most ${max}s, got '${v}'`);
  return sec;
}

const SIZE: Record<string, number> = { "": 1, b: 1, k: 1024, kb: 1024, kib: 1024, m: 1 << 20, mb: 1 << 20, mib: 1 << 20 };
/** "64", "1k", "16KiB", "1m" -> bytes, within [min, max]. */
export function sizeFlag(name: string, v: string | undefined, def: number, min: number, max: number): number {
  if (v === undefined) return def;
  const m = v.trim().toLowerCase().match(/^(\d+)\s*([a-z]*)$/);
  if (!m || SIZE[m[2]] === undefined) throw new UsageError(`--${name} must be a size like 64, 1k or 1m, got '${v}'`);
  const n = Number(m[1]) * SIZE[m[2]];
  if (n < min || n > max) throw new UsageError(`--${name} must be between ${min} and ${max} bytes, got '${v}'`);
  return n;
}

/** "HOST:PORT" or "[v6]:PORT". */
export function hostPortFlag(name: string, v: string): { host: string; port: number } {
  const m = v.match(/^\[([0-9a-fA-F:]+)\]:(\d+)$/) ?? v.match(/^([^:]+):(\d+)$/);
  if (!m) throw new UsageError(`--${name} must be HOST:PORT, got '${v}'`);
  const port = Number(m[2]);
  if (port < 1 || port > 65535) throw new UsageError(`--${name} port must be 1..65535, got ${port}`);
  return { host: m[1] === "localhost" ? "127.0.0.1" : m[1], port };
}

/** An IP literal (names other than localhost are not resolved). */
export function hostFlag(name: string, v: string | undefined, def: string): string {
  if (v === undefined) return def;
  if (v === "localhost") return "127.0.0.1";
  if (/^\d{1,3}(\.\d{1,3}){3}$/.test(v) && v.split(".").every((x) => Number(x) <= 255)) return v;
  if (/^[0-9a-fA-F:]+$/.test(v) && v.includes(":")) return v;
  throw new UsageError(`--${name} must be an IP address, got '${v}'`);
}

/** Sizes of one row: fixed (lo = hi) or drawn uniformly in [lo, hi]. */
export interface SizeSpec {
  lo: number;
  hi: number;
  /** "64", or "64-4096" for a range. */
  label: string;
}

/** "64,1k,16k" (a sweep: one row per item); an item may be a range "64-4k". */
export function sizeListFlag(name: string, v: string | undefined, def: number, min: number, max: number): SizeSpec[] {
  if (v === undefined) return [{ lo: def, hi: def, label: String(def) }];
  const items = v.split(",");
  if (items.some((s) => s.trim() === "")) throw new UsageError(`--${name} must be a size like 64, 1k or 1m, a range like 64-4k, or a list of them, got '${v}'`);
  return items.map((item) => {
    const parts = item.split("-");
    if (parts.length > 2) throw new UsageError(`--${name} range must be LOW-HIGH like 64-4k, got '${item}'`);
    const lo = sizeFlag(name, parts[0], def, min, max);
    const hi = parts.length === 2 ? sizeFlag(name, parts[1], def, min, max) : lo;
    if (hi < lo) throw new UsageError(`--${name} range must go from low to high, got '${item}'`);
    return { lo, hi, label: lo === hi ? String(lo) : `${lo}-${hi}` };
  });
}

/** A positive rate like 5000, 10k, 1.5m (per second), within (0, max]. */
export function rateFlag(name: string, v: string | undefined, max: number): number | null {
  if (v === undefined) return null;
  const m = v.trim().toLowerCase().match(/^(\d+(?:\.\d+)?)(k|m)?$/);
  if (!m) throw new UsageError(`--${name} must be a rate like 5000, 10k or 1.5m (per second), got '${v}'`);
  const n = Number(m[1]) * (m[2] === "k" ? 1e3 : m[2] === "m" ? 1e6 : 1);
  if (n <= 0 || n > max) throw new UsageError(`--${name} must be more than 0 and at most ${max}, got '${v}'`);
  return n;
}

/** --vpp-namespace ID:SECRET (only together with --vpp-socket). */
export function vppNamespaceFlag(v: string | undefined, socket: string | undefined): { id: string; secret: string } | undefined {
  if (v === undefined) return undefined;
  const m = v.match(/^(\w+):(\w+)$/);
  if (!m) throw new UsageError(`--vpp-namespace must be ID:SECRET, got '${v}'`);
  if (!socket) throw new UsageError("--vpp-namespace needs --vpp-socket");
  return { id: m[1], secret: m[2] };
}
