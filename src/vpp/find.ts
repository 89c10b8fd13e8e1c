/**
 * Finds an installed VPP: $VPP_PREFIX first, then the places FD.io's
 * packages (vpp, vpp-dev, libvppinfra) install to.
 */
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";

/** An installed VPP. */
export interface VppInstall {
  prefix: string;
  vpp: string;
  vppctl: string;
  libvppcom: string;
}

/** Where we looked, for the error message. */
export function searchedPrefixes(): string[] {
  const env = process.env.VPP_PREFIX;
  return env ? [env] : ["/usr", "/usr/local", "/opt/vpp"];
}

const LIB_DIRS = ["lib/x86_64-linux-gnu", "lib", "lib64"];

/** The installed VPP, or null. */
export function findVpp(): VppInstall | null {
  for (const prefix of searchedPrefixes()) {
    const install = vppAt(prefix);
    if (install) return install;
  }
  return null;
}

/** The VPP installed under one prefix (bin/vpp, bin/vppctl, libvppcom.so), or null. */
export function vppAt(prefix: string): VppInstall | null {
  const vpp = join(prefix, "bin", "vpp");
  const vppctl = join(prefix, "bin", "vppctl");
  const lib = LIB_DIRS.map((d) => join(prefix, d, "libvppcom.so")).find((p) => existsSync(p));
  return existsSync(vpp) && existsSync(vppctl) && lib ? { prefix, vpp, vppctl, libvppcom: lib } : null;
}

/** One line: what was searched and how to point at an install. */
export function vppNotFoundReason(): string {
  return `VPP not found (searched ${searchedPrefixes().join(", ")} for bin/vpp, bin/vppctl and libvppcom.so); install FD.io's vpp, vpp-dev and libvppinfra packages or set VPP_PREFIX`;
}

/** A VPP's version, as its own binary states it. */
export interface VppVersion {
  /** The full build string, e.g. "v26.10-rc0~374-gb575ec2c56d" or "v24.06.0-release". */
  full: string;
  /** The release it is of, e.g. "26.10-rc0" or "24.06". */
  short: string;
}

const versionCache = new Map<string, VppVersion>();

/**
 * The version of an install, read from the `vpp` binary's own build string
 * (every VPP embeds "vpp vXX.YY..." for `show version`; older releases have
 * no `--version` flag, so the string is read rather than asked for). The
 * most frequent match wins; "unknown" when none is found.
 */
export function vppVersion(install: VppInstall): VppVersion {
  const cached = versionCache.get(install.vpp);
  if (cached) return cached;
  let full = "unknown";
  try {
    const text = readFileSync(install.vpp, "latin1");
    const counts = new Map<string, number>();
    for (const m of text.matchAll(/\bv(\d{2}\.\d{2}(?:\.\d+)?(?:-rc\d+)?(?:[~-][0-9A-Za-z.~+-]*)?)\0/g)) counts.set(m[1], (counts.get(m[1]) ?? 0) + 1);
    const best = [...counts].sort((a, b) => b[1] - a[1])[0];
    if (best) full = `v${best[0]}`;
  } catch {}
  const v = { full, short: shortVersion(full) };
  versionCache.set(install.vpp, v);
  return v;
}

/** "v24.06.0-release" → "24.06"; "v26.10-rc0~374-g…" → "26.10-rc0"; "v24.10.1-release" → "24.10.1". */
export function shortVersion(full: string): string {
  const m = full.match(/^v(\d{2}\.\d{2})(\.\d+)?(-rc\d+)?/);
  if (!m) return full;
  const patch = m[2] && m[2] !== ".0" ? m[2] : "";
  return `${m[1]}${patch}${m[3] ?? ""}`;
}
