/**
 * The targets of a check: the embedded model, and each VPP install named
 * by its prefix, each labelled with the version its own binary states, so
 * two installs never get mixed up in a report.
 */
import { findVpp, vppAt, vppVersion, vppNotFoundReason, type VppInstall } from "../vpp/find.ts";
import type { CheckTarget } from "./runner.ts";

/** The VLS generation of a release: before VPP's 2025 locking rework (< 25.10) or after. */
export function vlsGeneration(version: string): "24.06" | "26.10" {
  const m = version.match(/^(\d+)\.(\d+)/);
  return m && Number(m[1]) * 100 + Number(m[2]) < 2510 ? "24.06" : "26.10";
}

/** The embedded model as a target. */
export const KERNEL_TARGET: CheckTarget = { backend: "kernel", version: "", vls: "", label: "kernel", prefix: "" };

/** A VPP install as a target. */
export function vppTarget(install: VppInstall): CheckTarget & { fullVersion: string } {
  const v = vppVersion(install);
  return { backend: "vpp", version: v.short, vls: vlsGeneration(v.short), label: `vpp ${v.short}`, prefix: install.prefix, fullVersion: v.full };
}

/**
 * The targets for `--vpp` prefixes (each must hold a VPP: else a thrown
 * reason), or, with none given, the VPP `--backend vpp` would find. The
 * note says why no VPP is checked, when none is.
 */
export function resolveTargets(prefixes: string[], withKernel: boolean): { targets: (CheckTarget & { fullVersion?: string })[]; note: string | null } {
  const targets: (CheckTarget & { fullVersion?: string })[] = withKernel ? [KERNEL_TARGET] : [];
  let note: string | null = null;
  if (prefixes.length) {
    for (const p of prefixes) {
      const install = vppAt(p);
      if (!install) throw new Error(`--vpp ${p}: no VPP there (bin/vpp, bin/vppctl and lib/.../libvppcom.so)`);
      const t = vppTarget(install);
      if (targets.some((x) => x.label === t.label && x.prefix !== t.prefix)) t.label = `${t.label} (${p})`;
      if (!targets.some((x) => x.prefix === t.prefix)) targets.push(t);
    }
  } else {
    const found = findVpp();
    if (found) targets.push(vppTarget(found));
    else note = `no VPP checked: ${vppNotFoundReason()}`;
  }
  return { targets, note };
}
