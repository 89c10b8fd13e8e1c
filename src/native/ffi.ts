/**
 * The only module that imports bun:ffi. It makes sure the native core is
 * built and current (main thread only), opens it, and turns negative errno
 * returns into typed {@link VlsError}s for callers that want exceptions.
 * Hot paths (echo loops) call {@link raw} directly and test the sign.
 */
import { dlopen, CString, type Pointer } from "bun:ffi";
import { isMainThread } from "node:worker_threads";
import { join } from "node:path";
import { existsSync } from "node:fs";
import { buildNative } from "../../scripts/build-native.mjs";
import { Errno, errnoName } from "./errno.ts";
import { nativeBuildDir, nativeVariant } from "./paths.ts";

const libPath = join(nativeBuildDir, "libvlsb.so");

if (isMainThread) buildNative({ variant: nativeVariant, quiet: true });
else if (!existsSync(libPath)) throw new Error(`native core missing at ${libPath}`);

const lib = dlopen(libPath, {
  vlsb_app_init: { args: ["i32", "i32", "cstring"], returns: "i32" },
  vlsb_app_fini: { args: [], returns: "i32" },
  vlsb_app_backend: { args: [], returns: "i32" },
  vlsb_app_mode: { args: [], returns: "i32" },
  vlsb_create: { args: ["i32", "i32"], returns: "i32" },
  vlsb_bind: { args: ["i32", "ptr"], returns: "i32" },
  vlsb_listen: { args: ["i32", "i32"], returns: "i32" },
  vlsb_accept: { args: ["i32", "ptr", "i32"], returns: "i32" },
  vlsb_connect: { args: ["i32", "ptr"], returns: "i32" },
  vlsb_read: { args: ["i32", "ptr", "i32"], returns: "i32" },
  vlsb_write: { args: ["i32", "ptr", "i32"], returns: "i32" },
  vlsb_shutdown: { args: ["i32", "i32"], returns: "i32" },
  vlsb_close: { args: ["i32"], returns: "i32" },
  vlsb_attr: { args: ["i32", "i32", "i32", "ptr"], returns: "i32" },
  vlsb_epoll_create: { args: [], returns: "i32" },
  vlsb_epoll_ctl: { args: ["i32", "i32", "i32", "u32", "u32"], returns: "i32" },
  vlsb_epoll_wait: { args: ["i32", "ptr", "i32", "i32"], returns: "i32" },
  vlsb_worker_register: { args: [], returns: "i32" },
  vlsb_worker_unregister: { args: [], returns: "i32" },
  vlsb_worker_index: { args: [], returns: "i32" },
  vlsb_stop_waits: { args: ["i32"], returns: "void" },
  vlsb_now_ns: { args: [], returns: "f64" },
  vlsb_strerror: { args: ["i32"], returns: "ptr" },
  vlsb_counters_json: { args: ["ptr", "i32"], returns: "i32" },
  vlsb_rpc_latencies: { args: ["ptr", "i32"], returns: "i32" },
  vlsb_fork_echo_workers: { args: ["i32", "i32", "ptr"], returns: "i32" },
  vlsb_echo_loop: { args: ["i32"], returns: "i32" },
  vlsb_reap_children: { args: [], returns: "i32" },
  vlsb_child_exits: { args: ["ptr", "i32"], returns: "i32" },
});

/** The raw symbols: negative errno on failure, no exceptions. */
export const raw = lib.symbols;

/** An error returned by the native core (a negative errno), typed. */
export class VlsError extends Error {
  /** Positive errno value, e.g. 77 for EBADFD. */
  readonly errno: number;
  /** Symbolic name, e.g. "EBADFD". */
  readonly code: string;
  /** The ABI call that failed. */
  readonly op: string;
  constructor(op: string, rv: number) {
    const errno = -rv;
    super(`${op}: ${errnoName(errno)} (${strerror(errno)})`);
    this.name = "VlsError";
    this.errno = errno;
    this.code = errnoName(errno);
    this.op = op;
  }
}

/** Text for an errno value, from the native core. */
export function strerror(errno: number): string {
  const p = raw.vlsb_strerror(errno) as Pointer | null;
  return p ? new CString(p).toString() : "unknown error";
}

/** Returns rv when >= 0, throws VlsError otherwise. */
export function check(op: string, rv: number): number {
  if (rv < 0) throw new VlsError(op, rv);
  return rv;
}

/** Reads the native counters snapshot. */
export function countersSnapshot(): unknown {
  let cap = 1 << 16;
  for (;;) {
    const buf = new Uint8Array(new ArrayBuffer(cap));
    const n = raw.vlsb_counters_json(buf, cap);
    if (n >= 0) return JSON.parse(new TextDecoder().decode(buf.subarray(0, n)));
    if (-n !== Errno.ENOSPC) throw new VlsError("vlsb_counters_json", n);
    cap *= 4;
  }
}

/** Drains the recorded migration-RPC latencies (ns). */
export function drainRpcLatencies(): Float64Array {
  const out = new Float64Array(new ArrayBuffer(8 * 65536));
  const n = raw.vlsb_rpc_latencies(out, out.length);
  return out.subarray(0, Math.max(0, n));
}

/**
 * Forks n native echo workers on listener h (process mode); their pids.
 * All or nothing: a failed fork throws (the native side killed the ones
 * already forked). Never returns a pid <= 0.
 */
export function forkEchoWorkers(h: number, n: number): number[] {
  const pids = new Int32Array(new ArrayBuffer(4 * n));
  const forked = check("vlsb_fork_echo_workers", raw.vlsb_fork_echo_workers(h, n, pids));
  const out = [...pids.subarray(0, forked)].filter((p) => p > 0);
  if (out.length !== n) throw new Error(`vlsb_fork_echo_workers: ${out.length} of ${n} workers forked`);
  return out;
}

/** A forked worker that was reaped: its pid and how it ended. */
export interface ChildExit {
  pid: number;
  /** Exit code, or null when a signal killed it. */
  code: number | null;
  /** Signal number that killed it, or null. */
  signal: number | null;
}

/** Reaps exited forked workers now and returns the ones not reported yet. */
export function childExits(): ChildExit[] {
  raw.vlsb_reap_children();
  const buf = new Int32Array(new ArrayBuffer(8 * 64));
  const n = raw.vlsb_child_exits(buf, 64);
  const out: ChildExit[] = [];
  for (let i = 0; i < n; i++) {
    const st = buf[2 * i + 1];
    const sig = st & 0x7f;
    out.push({ pid: buf[2 * i], code: sig === 0 ? (st >> 8) & 0xff : null, signal: sig === 0 ? null : sig });
  }
  return out;
}
