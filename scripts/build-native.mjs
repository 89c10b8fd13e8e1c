#!/usr/bin/env node
// Builds the native core with the system C compiler (cc, or $CC) into
// native/build*/, only when a source or header is newer than its output.
// Runs on `npm install` (postinstall), and is called by src/native/ffi.ts
// before the library is opened, so no run ever uses a stale core.
//
//   node scripts/build-native.mjs                 libvlsb.so, c-echo, c-pingpong and the other programs
//   node scripts/build-native.mjs --variant asan  AddressSanitizer+UBSan build
//   node scripts/build-native.mjs --variant tsan  ThreadSanitizer build
//   node scripts/build-native.mjs --variant nolocks  locking compiled out (bench only)
//   node scripts/build-native.mjs --tests         also the C tests (native/test/*.c)
//   (buildNative({ tests: ["fork_workers"] }) builds only the C tests named)
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, readdirSync, statSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const nat = join(root, "native");

const VARIANTS = {
  release: { dir: "build", cc: process.env.CC || "cc", flags: ["-O2", "-g"] },
  asan: {
    dir: "build-asan",
    cc: process.env.CC || "clang",
    flags: ["-O1", "-g", "-fno-omit-frame-pointer", "-fsanitize=address,undefined", "-fno-sanitize-recover=undefined"],
  },
  tsan: { dir: "build-tsan", cc: process.env.CC || "clang", flags: ["-O1", "-g", "-fsanitize=thread"] },
  // Lock owners tracked, dumped on SIGUSR2 (the tests' deadlock watchdog).
  debug: { dir: "build-debug", cc: process.env.CC || "cc", flags: ["-O1", "-g", "-DVLSB_LOCK_DEBUG"] },
  // Benchmark only: VLS locking compiled out (wrong with more than one thread).
  nolocks: { dir: "build-nolocks", cc: process.env.CC || "cc", flags: ["-O2", "-g", "-DVLSB_NO_LOCKS"] },
};
/** native/src's floors, bottom up (docs/architecture.md); each is on the
 * include path, so a source names another floor's header by file name. */
const FLOORS = ["runtime", "model", "backends", "programs"];
const BASE = [
  "-std=c11", "-Wall", "-Wextra", "-Werror", "-D_GNU_SOURCE", "-fPIC", "-pthread",
  `-I${join(nat, "include")}`,
  ...FLOORS.map((f) => `-I${join(nat, "src", f)}`),
];

/** Stand-alone programs (not part of the library): source -> binary;
 * withCore links the core library's sources too. */
const PROGRAMS = [
  { src: "programs/c_echo.c", bin: "c-echo" },
  { src: "programs/c_pingpong.c", bin: "c-pingpong" },
  { src: "programs/supervise.c", bin: "vlsb-supervise" },
  { src: "programs/echo_main.c", bin: "vlsb-echo", withCore: true },
  { src: "programs/callbench_main.c", bin: "vlsb-callbench", withCore: true },
];

const list = (dir, ext) =>
  existsSync(dir) ? readdirSync(dir).filter((f) => f.endsWith(ext)).map((f) => join(dir, f)) : [];
const mtime = (f) => (existsSync(f) ? statSync(f).mtimeMs : 0);

/** Files of every floor of native/src ending in ext. */
const srcFiles = (ext) => FLOORS.flatMap((f) => list(join(nat, "src", f), ext));

/** Sources of the core library (everything in native/src but the programs' mains). */
export function coreSources() {
  return srcFiles(".c").filter((f) => !PROGRAMS.some((p) => f.endsWith(p.src))).sort();
}

function headers() {
  return [...srcFiles(".h"), ...list(join(nat, "include"), ".h"), fileURLToPath(import.meta.url)];
}

function stale(out, inputs) {
  const t = mtime(out);
  return t === 0 || inputs.some((f) => mtime(f) > t);
}

function cc(v, args) {
  const r = spawnSync(v.cc, [...BASE, ...v.flags, ...args], { stdio: ["ignore", "inherit", "inherit"] });
  if (r.error) throw new Error(`cannot run the C compiler '${v.cc}': ${r.error.message}`);
  if (r.status !== 0) throw new Error(`native build failed (${v.cc} exited ${r.status})`);
}

/** Builds what is stale for a variant; returns the library path. `tests`:
 * true for every C test, or the names of some (e.g. "fork_workers"). */
export function buildNative({ variant = "release", tests = false, quiet = false } = {}) {
  const v = VARIANTS[variant];
  if (!v) throw new Error(`unknown variant '${variant}'`);
  const out = join(nat, v.dir);
  mkdirSync(out, { recursive: true });
  const core = coreSources();
  const hdrs = headers();
  const lib = join(out, "libvlsb.so");
  const say = (m) => quiet || console.error(`[build-native] ${m}`);
  if (stale(lib, [...core, ...hdrs])) {
    say(`compiling ${lib}`);
    cc(v, ["-shared", "-o", lib, ...core, "-ldl"]);
  }
  for (const p of PROGRAMS) {
    const bin = join(out, p.bin);
    const src = join(nat, "src", p.src);
    const inputs = p.withCore ? [src, ...core, ...hdrs] : [src];
    if (stale(bin, inputs)) {
      say(`compiling ${bin}`);
      cc(v, ["-o", bin, src, ...(p.withCore ? [...core, "-ldl"] : [])]);
    }
  }
  if (tests) {
    const wanted = (t) => tests === true || tests.includes(t.split("/").pop().replace(/\.c$/, ""));
    for (const t of list(join(nat, "test"), ".c").filter(wanted)) {
      const bin = join(out, "test_" + t.split("/").pop().replace(/\.c$/, ""));
      if (stale(bin, [t, ...core, ...hdrs, ...list(join(nat, "test"), ".h")])) {
        say(`compiling ${bin}`);
        cc(v, ["-o", bin, t, ...core, "-ldl"]);
      }
    }
  }
  return lib;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const args = process.argv.slice(2);
  const vi = args.indexOf("--variant");
  try {
    buildNative({ variant: vi >= 0 ? args[vi + 1] : "release", tests: args.includes("--tests") });
  } catch (e) {
    console.error(`build-native: ${e.message}`);
    process.exit(1);
  }
}
