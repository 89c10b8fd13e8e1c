/**
 * Builds and runs the native C tests (native/test/*.c) for a build variant:
 *   bun scripts/test-native.ts [--variant release|debug|asan|tsan|all]
 * Each test binary runs bounded in time (a hang is a failure). Prints one
 * line per binary and ends with "N passed, N failed"; exits 1 on failure.
 */
import { parseArgs } from "node:util";
import { readdirSync } from "node:fs";
import { join } from "node:path";
import { buildNative } from "./build-native.mjs";

const { values } = parseArgs({ options: { variant: { type: "string" } } });
const want = values.variant ?? "release";
const variants = want === "all" ? ["release", "debug", "asan", "tsan"] : [want];
const DIRS: Record<string, string> = { release: "build", debug: "build-debug", asan: "build-asan", tsan: "build-tsan" };
const TIMEOUT_MS = 180_000;
const ENV = {
  ASAN_OPTIONS: "detect_leaks=1:abort_on_error=1:halt_on_error=1",
  UBSAN_OPTIONS: "print_stacktrace=1:halt_on_error=1",
  TSAN_OPTIONS: "halt_on_error=1:second_deadlock_stack=1",
};

let passed = 0;
let failed = 0;
for (const variant of variants) {
  if (!DIRS[variant]) {
    console.error(`test-native: unknown variant '${variant}'`);
    process.exit(2);
  }
  if ((variant === "asan" || variant === "tsan") && !Bun.which(process.env.CC ?? "clang")) {
    console.log(`${variant}: clang is not installed (apt-get install clang); cannot build the sanitizer variant`);
    failed++;
    continue;
  }
  buildNative({ variant, tests: true });
  const dir = join(import.meta.dir, "..", "native", DIRS[variant]);
  for (const bin of readdirSync(dir).filter((f) => f.startsWith("test_")).sort()) {
    const t0 = performance.now();
    const p = Bun.spawn([join(dir, bin)], { stdout: "pipe", stderr: "pipe", env: { ...process.env, ...ENV } });
    const timer = setTimeout(() => p.kill("SIGKILL"), TIMEOUT_MS);
    const [out, err, code] = await Promise.all([new Response(p.stdout).text(), new Response(p.stderr).text(), p.exited]);
    clearTimeout(timer);
    const ms = (performance.now() - t0).toFixed(0);
    if (code === 0) {
      passed++;
      console.log(`ok   ${variant}/${bin} (${ms} ms): ${out.trim().split("\n").pop()}`);
    } else {
      failed++;
      console.log(`FAIL ${variant}/${bin} (${ms} ms, exit ${code}${p.signalCode ? `, ${p.signalCode}` : ""})`);
      console.log((out + err).trim().split("\n").slice(-40).join("\n"));
    }
  }
}
console.log(`${passed} passed, ${failed} failed`);
process.exit(failed ? 1 : 0);
