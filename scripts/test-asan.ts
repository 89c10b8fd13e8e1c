/**
 * npm run test:asan: the Bun tests that drive the native core hardest (the
 * ABI through FFI, the FFI fuzz, the conformance suite's kernel cases) run
 * against the AddressSanitizer+UBSan build of the core.
 *
 * Bun itself is not instrumented, so the ASan runtime has to be in the
 * process before the instrumented libvlsb.so is loaded: it is preloaded
 * (LD_PRELOAD) into the Bun that runs the tests, and from there into every
 * scenario process they start. Leak detection is off: Bun's own allocations
 * at exit are not the core's. A sanitizer report aborts the process, so the
 * test that ran it fails.
 */
import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { buildNative } from "./build-native.mjs";

const TESTS = ["test/abi.test.ts", "test/ffi-fuzz.test.ts", "test/conformance"];

function asanRuntime(): string {
  const found = spawnSync("clang", ["-print-file-name=libclang_rt.asan-x86_64.so"], { encoding: "utf8" });
  const path = found.status === 0 ? found.stdout.trim() : "";
  if (!path.startsWith("/") || !existsSync(path)) {
    console.error("test:asan: clang's ASan runtime (libclang_rt.asan-x86_64.so) is not installed (Debian: apt-get install clang libclang-rt-dev)");
    process.exit(1);
  }
  return path;
}

const runtime = asanRuntime();
buildNative({ variant: "asan", quiet: true });
const args = ["test", "--timeout", "120000", ...(process.argv.length > 2 ? process.argv.slice(2) : TESTS)];
const run = spawnSync(process.execPath, args, {
  stdio: "inherit",
  env: {
    ...process.env,
    LD_PRELOAD: runtime,
    ASAN_OPTIONS: "detect_leaks=0:abort_on_error=1",
    UBSAN_OPTIONS: "halt_on_error=1:print_stacktrace=1",
    VLSB_NATIVE_VARIANT: "asan",
  },
});
process.exit(run.status ?? 1);
