#!/usr/bin/env node
// Runs before `npm test` (pretest): installs Debian's chromium, which the
// HTML report test renders in, when it is missing and this is root on a
// Debian-like system. Never fails the tests: without chromium that one test
// skips, naming why. VLSB_NO_APT=1 leaves the system alone.
import { existsSync } from "node:fs";
import { spawnSync } from "node:child_process";

const have = ["/usr/bin/chromium", "/usr/bin/chromium-browser", "/usr/bin/google-chrome", process.env.CHROMIUM].some((p) => p && existsSync(p));
const isRoot = typeof process.getuid === "function" && process.getuid() === 0;
if (have) process.exit(0);
if (process.env.VLSB_NO_APT === "1" || !isRoot || !existsSync("/usr/bin/apt-get")) {
  console.log("test tools: chromium is not installed and will not be (needs root and apt-get); the HTML report render test will skip");
  process.exit(0);
}
console.log("test tools: installing Debian's chromium for the HTML report render test (apt-get)");
const env = { ...process.env, DEBIAN_FRONTEND: "noninteractive" };
const run = (args) => spawnSync("apt-get", args, { stdio: ["ignore", "ignore", "inherit"], env, timeout: 600_000 }).status === 0;
if (!(run(["install", "-y", "-qq", "chromium"]) || (run(["update", "-qq"]) && run(["install", "-y", "-qq", "chromium"])))) {
  console.log("test tools: apt-get could not install chromium; the HTML report render test will skip");
}
