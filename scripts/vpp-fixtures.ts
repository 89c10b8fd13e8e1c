/**
 * Test setup: the prebuilt VPPs the VPP tests run against, unpacked once
 * into a cache outside the repository and reused.
 *
 * The tarballs (`vpp-VERSION.tar.xz` with `vpp-VERSION/{bin,lib}` inside,
 * plus a SHA256SUMS file) come from $VLSB_VPP_TARBALLS, else from the
 * fixtures folder the CI machine keeps beside the checkout. Each is
 * unpacked under $VLSB_VPP_CACHE (default ~/.cache/vlsbench/vpp) in a
 * folder named by the first 16 hex digits of its SHA-256, so a changed
 * tarball gets a fresh folder and an unchanged one is never unpacked twice.
 * Users never need this: the product finds an installed VPP itself.
 */
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync } from "node:fs";
import { homedir } from "node:os";
import { join, resolve } from "node:path";

/** One prebuilt VPP ready to use as VPP_PREFIX. */
export interface VppFixture {
  /** The release named by the tarball, e.g. "24.06". */
  version: string;
  /** The unpacked prefix (holds bin/ and lib/). */
  prefix: string;
}

const REPO = resolve(import.meta.dir, "..");

/** Where the tarballs are, or null when this machine has none. */
export function tarballDir(): string | null {
  const dir = process.env.VLSB_VPP_TARBALLS ?? join(REPO, "..", "shared", "vpp");
  return existsSync(dir) && readdirSync(dir).some((f) => /^vpp-.+\.tar\.xz$/.test(f)) ? dir : null;
}

function cacheRoot(): string {
  return process.env.VLSB_VPP_CACHE ?? join(process.env.XDG_CACHE_HOME ?? join(homedir(), ".cache"), "vlsbench", "vpp");
}

function sha256(file: string): string {
  return createHash("sha256").update(readFileSync(file)).digest("hex");
}

/** The expected hashes from SHA256SUMS, by file name (empty when there is none). */
function expectedSums(dir: string): Map<string, string> {
  const sums = new Map<string, string>();
  const file = join(dir, "SHA256SUMS");
  if (!existsSync(file)) return sums;
  for (const line of readFileSync(file, "utf8").split("\n")) {
    const m = line.match(/^([0-9a-f]{64})\s+\*?(\S+)$/);
    if (m) sums.set(m[2], m[1]);
  }
  return sums;
}

/**
 * Every tarball in `dir`, unpacked (or found unpacked) in the cache. A
 * tarball whose hash disagrees with SHA256SUMS is an error, not a skip:
 * testing against a corrupt VPP would report VPP defects that are not.
 */
export function unpackFixtures(dir: string): VppFixture[] {
  const sums = expectedSums(dir);
  const out: VppFixture[] = [];
  for (const file of readdirSync(dir).filter((f) => /^vpp-.+\.tar\.xz$/.test(f)).sort()) {
    const name = file.replace(/\.tar\.xz$/, "");
    const path = join(dir, file);
    const hash = sha256(path);
    const want = sums.get(file);
    if (want && want !== hash) throw new Error(`${path}: SHA-256 ${hash} does not match SHA256SUMS (${want})`);
    const home = join(cacheRoot(), hash.slice(0, 16));
    const prefix = join(home, name);
    if (!existsSync(join(prefix, "bin", "vpp"))) {
      // Unpack beside the final folder and rename, so an interrupted unpack
      // never leaves a half folder that a later run would take as complete.
      const tmp = `${home}.tmp-${process.pid}`;
      rmSync(tmp, { recursive: true, force: true });
      mkdirSync(tmp, { recursive: true });
      const tar = Bun.spawnSync(["tar", "-xJf", path, "-C", tmp], { stderr: "pipe" });
      if (tar.exitCode !== 0) throw new Error(`tar -xJf ${path}: ${tar.stderr.toString().trim()}`);
      rmSync(home, { recursive: true, force: true });
      renameSync(tmp, home);
    }
    out.push({ version: name.replace(/^vpp-/, ""), prefix });
  }
  return out;
}
