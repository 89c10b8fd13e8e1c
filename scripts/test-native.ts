/**
 * Builds and runs the native C tests (native/test/*.c) for a build variant:
 *   bun scripts/test-native.ts [--variant release|asan|tsan|all|debug]
 * "all" is release, asan (AddressSanitizer+UBSan) and tsan (ThreadSanitizer);
 * debug (lock-owner tracking) runs only when asked for by name.
 *
 * Each test binary runs bounded in time: past TIMEOUT_MS it gets SIGUSR2
 * (debug builds print which thread holds which lock), then SIGKILL, and
 * counts as failed. A binary passes when it exits 0 and its last line is
 * "N passed, 0 failed". Prints one line per binary and ends with
 * "N passed, N failed" (binaries); exits 1 when any failed.
 */
import { parseArgs } from "node:util";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { buildNative } from "./build-native.mjs";

const root = join(import.meta.dir, "..");
const { values } = parseArgs({ options: { variant: { type: "string" } } });
const want = values.variant ?? "release";
const DIRS: Record<string, string> = { release: "build", debug: "build-debug", asan: "build-asan", tsan: "build-tsan" };
const variants = want === "all" ? ["release", "asan", "tsan"] : [want];
for (const v of variants) {
  if (!DIRS[v]) {
    console.log(`test-native: unknown variant '${v}' (release, asan, tsan, debug or all)`);
    process.exit(2);
  }
}

const TIMEOUT_MS = 60_000;
const tsanSupp = join(root, "native", "test", "tsan.supp");
const ENV: Record<string, string> = {
  ASAN_OPTIONS: "detect_leaks=1:abort_on_error=1",
  UBSAN_OPTIONS: "print_stacktrace=1:halt_on_error=1",
  TSAN_OPTIONS: "halt_on_error=1:second_deadlock_stack=1" + (existsSync(tsanSupp) ? `:suppressions=${tsanSupp}` : ""),
};
const CLOSING = /^(\d+) passed, (\d+) failed$/;

/** The test binaries of the current sources (a stale binary of a deleted
 * test is not run). */
function testNames(): string[] {
  return readdirSync(join(root, "native", "test"))
    .filter((f) => f.endsWith(".c"))
    .map((f) => "test_" + f.slice(0, -2))
    .sort();
}

async function runOne(bin: string, outBase: string) {
  const outFile = `${outBase}.out`;
  const errFile = `${outBase}.err`;
  const t0 = performance.now();
  // Output to files, not pipes: a forked worker that outlives the test must
  // not keep the runner waiting for end of stream.
  const p = Bun.spawn([bin], {
    stdin: "ignore",
    stdout: Bun.file(outFile),
    stderr: Bun.file(errFile),
    env: { ...process.env, ...ENV },
  });
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    p.kill("SIGUSR2");
    setTimeout(() => p.kill("SIGKILL"), 1000);
  }, TIMEOUT_MS);
  const code = await p.exited;
  clearTimeout(timer);
  const ms = performance.now() - t0;
  const read = (f: string) => (existsSync(f) ? readFileSync(f, "utf8") : "");
  return { code, signal: p.signalCode, timedOut, ms, out: read(outFile), err: read(errFile) };
}

const haveClang = (variant: string) =>
  !(variant === "asan" || variant === "tsan") || process.env.CC || Bun.which("clang");

/** Several variants: build them side by side first (one process each, as
 * many as there are cores), which halves the wall time on 2 cores; the
 * in-process buildNative below then finds them up to date, or reports
 * what failed. */
async function prebuild(list: string[]) {
  const runner = Bun.which("node") ?? process.execPath;
  const script = join(root, "scripts", "build-native.mjs");
  const queue = list.filter(haveClang);
  const slots = Math.max(1, Math.min(navigator.hardwareConcurrency || 2, queue.length));
  await Promise.all(
    Array.from({ length: slots }, async () => {
      for (let v = queue.shift(); v; v = queue.shift()) {
        const p = Bun.spawn([runner, script, "--tests", "--variant", v], { stdout: "ignore", stderr: "ignore" });
        await p.exited;
      }
    }),
  );
}
if (variants.length > 1) await prebuild(variants);

let passed = 0;
let failed = 0;
const scratch = mkdtempSync(join(tmpdir(), "vlsb-test-native-"));
try {
  for (const variant of variants) {
    if (!haveClang(variant)) {
      console.log(`FAIL ${variant}: clang is not installed (apt-get install clang); cannot build the sanitizer variant`);
      failed++;
      continue;
    }
    try {
      const t0 = performance.now();
      buildNative({ variant, tests: true, quiet: true });
      console.error(`[test-native] ${variant} built (${((performance.now() - t0) / 1000).toFixed(1)} s)`);
    } catch (e) {
      console.log(`FAIL ${variant}: build: ${(e as Error).message}`);
      failed++;
      continue;
    }
    const dir = join(root, "native", DIRS[variant]);
    for (const name of testNames()) {
      const r = await runOne(join(dir, name), join(scratch, `${variant}-${name}`));
      const last = r.out.trim().split("\n").pop() ?? "";
      const m = CLOSING.exec(last);
      const ok = r.code === 0 && !r.timedOut && m !== null && m[2] === "0" && Number(m[1]) > 0;
      const what = `${variant}/${name} (${r.ms.toFixed(0)} ms)`;
      if (ok) {
        passed++;
        console.log(`ok   ${what}: ${last}`);
      } else {
        failed++;
        const why = r.timedOut
          ? `timed out after ${TIMEOUT_MS / 1000} s`
          : `exit ${r.code}${r.signal ? ` (${r.signal})` : ""}${m ? "" : ", no closing line"}`;
        console.log(`FAIL ${what}: ${why}`);
        const tail = (r.err + r.out).trim().split("\n").slice(-60).join("\n");
        if (tail) console.log(tail.replace(/^/gm, "     "));
      }
    }
  }
} finally {
  rmSync(scratch, { recursive: true, force: true });
}
console.log(`${passed} passed, ${failed} failed`);
process.exit(failed ? 1 : 0);
