/**
 * `npm run test:vpp`: the VPP tests (test/vpp.test.ts, check on VPP and the conformance
 * suite) once per VPP, with VPP_PREFIX set to it.
 *
 * Which VPPs: every prebuilt fixture (scripts/vpp-fixtures.ts), else the
 * one VPP_PREFIX names or FD.io's packages installed. `--only VERSION`
 * keeps one; other arguments name the test files (default: the two
 * above). Only the VPP cases run: the kernel ones are `npm test`'s.
 * With a VPP present a skipped test is a failure here: every VPP case must
 * run. Exit 0 only when every VPP passed with no skip.
 */
import { findVpp, vppAt, vppVersion } from "../src/vpp/find.ts";
import { tarballDir, unpackFixtures, type VppFixture } from "./vpp-fixtures.ts";

const DEFAULT_FILES = ["test/vpp.test.ts", "test/vpp-check.test.ts", "test/conformance"];
/** The VPP cases only: conformance names end "[vpp VERSION]", vpp.test.ts's sit under "vpp backend". The kernel cases ran in `npm test`. */
const VPP_CASES = "\\[vpp |vpp backend";

function vppsToTest(): VppFixture[] {
  const dir = tarballDir();
  if (dir) return unpackFixtures(dir);
  const found = findVpp();
  return found ? [{ version: vppVersion(found).short, prefix: found.prefix }] : [];
}

interface Outcome {
  version: string;
  pass: number;
  skip: number;
  fail: number;
  exitCode: number;
  seconds: number;
}

/** Runs bun test with VPP_PREFIX, echoing its output, and counts its summary lines. */
async function runOn(v: VppFixture, files: string[]): Promise<Outcome> {
  const install = vppAt(v.prefix);
  if (!install) throw new Error(`${v.prefix}: no bin/vpp, bin/vppctl and libvppcom.so there`);
  const full = vppVersion(install).full;
  console.log(`\n=== VPP ${v.version} (${full}) at ${v.prefix}`);
  const t0 = performance.now();
  const proc = Bun.spawn([process.execPath, "test", "--timeout", "60000", "-t", VPP_CASES, ...files], {
    env: { ...process.env, VPP_PREFIX: v.prefix },
    stdout: "inherit",
    stderr: "pipe",
  });
  // bun test writes its report to stderr: pass it through and keep it to count.
  let text = "";
  const dec = new TextDecoder();
  for await (const chunk of proc.stderr) {
    const s = dec.decode(chunk, { stream: true });
    text += s;
    process.stderr.write(s);
  }
  const exitCode = await proc.exited;
  const count = (word: string) => Number(text.match(new RegExp(`^\\s*(\\d+) ${word}$`, "m"))?.[1] ?? 0);
  return { version: v.version, pass: count("pass"), skip: count("skip"), fail: count("fail"), exitCode, seconds: (performance.now() - t0) / 1000 };
}

const args = process.argv.slice(2);
const onlyAt = args.indexOf("--only");
const only = onlyAt >= 0 ? args.splice(onlyAt, 2)[1] : undefined;
const files = args.length ? args : DEFAULT_FILES;

let vpps = vppsToTest();
if (only) vpps = vpps.filter((v) => v.version === only);
if (vpps.length === 0) {
  console.error(only ? `test:vpp: no VPP ${only} here` : "test:vpp: no VPP here (no fixtures, VPP_PREFIX unset, no FD.io packages)");
  process.exit(1);
}

const outcomes: Outcome[] = [];
for (const v of vpps) outcomes.push(await runOn(v, files));

console.log("\n=== VPP tests, per version");
let ok = true;
for (const o of outcomes) {
  const good = o.exitCode === 0 && o.fail === 0 && o.skip === 0 && o.pass > 0;
  ok &&= good;
  console.log(`${good ? "ok  " : "FAIL"} VPP ${o.version}: ${o.pass} pass, ${o.skip} skip, ${o.fail} fail, exit ${o.exitCode}, ${o.seconds.toFixed(0)} s`);
}
process.exit(ok ? 0 : 1);
