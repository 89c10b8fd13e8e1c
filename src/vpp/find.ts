/**
 * Finds an installed VPP: $VPP_PREFIX first, then the places FD.io's
 * packages (vpp, vpp-dev, libvppinfra) install to.
 */
import { existsSync } from "node:fs";
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
    const vpp = join(prefix, "bin", "vpp");
    const vppctl = join(prefix, "bin", "vppctl");
    const lib = LIB_DIRS.map((d) => join(prefix, d, "libvppcom.so")).find((p) => existsSync(p));
    if (existsSync(vpp) && existsSync(vppctl) && lib) return { prefix, vpp, vppctl, libvppcom: lib };
  }
  return null;
}

/** One line: what was searched and how to point at an install. */
export function vppNotFoundReason(): string {
  return `VPP not found (searched ${searchedPrefixes().join(", ")} for bin/vpp, bin/vppctl and libvppcom.so); install FD.io's vpp, vpp-dev and libvppinfra packages or set VPP_PREFIX`;
}
