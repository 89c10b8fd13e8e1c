/**
 * The backends the conformance suite runs on. Every behaviour file
 * registers its tests once per backend; a backend that is not available
 * here has its tests registered as skipped, with the reason in the name,
 * so the report shows what was not checked and why.
 *
 * kernel: the embedded VLS over Linux sockets (always built).
 * vpp:    libvppcom's VLS; each scenario starts a private VPP of its own
 *         (scenarios/app.ts). Available when an installed VPP is found
 *         (VPP_PREFIX or FD.io's package places).
 */
import { test } from "bun:test";
import type { BackendName } from "../../src/native/vls.ts";
import { findVpp, vppVersion } from "../../src/vpp/find.ts";
import { lastVppRunDiagnostics } from "../helpers/scenario.ts";

export interface ConformanceBackend {
  name: BackendName;
  /** The VPP release (e.g. "24.06", "26.10-rc0"); "" on the kernel backend. */
  version: string;
  /** How tests name it: "kernel", "vpp 24.06". */
  label: string;
  /**
   * Which VLS generation a VPP has: "24.06" (the VLS of the design's seeds,
   * before VPP's 2025 locking rework) or "26.10" (after it); "" on kernel.
   * Releases before 25.10 count as the first, the rest as the second.
   */
  vls: "" | "24.06" | "26.10";
  available: boolean;
  /** Why the backend is not available (one line). */
  reason?: string;
}

/** The backend list, in the order the tests are registered. */
export function backends(): ConformanceBackend[] {
  const install = findVpp();
  const version = install ? vppVersion(install).short : "";
  return [
    { name: "kernel", version: "", label: "kernel", vls: "", available: true },
    install
      ? { name: "vpp", version, label: `vpp ${version}`, vls: vlsGeneration(version), available: true }
      : { name: "vpp", version: "", label: "vpp", vls: "", available: false, reason: "VPP not found: install FD.io vpp packages or set VPP_PREFIX" },
  ];
}

function vlsGeneration(version: string): "24.06" | "26.10" {
  const m = version.match(/^(\d+)\.(\d+)/);
  return m && Number(m[1]) * 100 + Number(m[2]) < 2510 ? "24.06" : "26.10";
}

type TestBody = () => Promise<void> | void;
/**
 * Registers a test under a backend: `name [backend]`, or skipped with the
 * reason. `vppGap` names why this test does not run on VPP yet (a scenario
 * not ported to VPP, or a vlsbench defect found on VPP): on the vpp backend
 * it is then reported as skipped with that reason, so the gap stays visible.
 */
export type BackendTest = (name: string, body: TestBody, timeoutMs: number, vppGap?: string) => void;

/**
 * Calls `register` once per backend with a `t` that registers a test for
 * that backend (or a skipped one naming the reason).
 */
export function forEachBackend(register: (b: ConformanceBackend, t: BackendTest) => void): void {
  for (const b of backends()) {
    const t: BackendTest = (name, body, timeoutMs, vppGap) => {
      if (!b.available) test.skip(`${name} [${b.name}: skipped, ${b.reason ?? "unavailable"}]`, body, timeoutMs);
      else if (b.name === "vpp" && vppGap) test.skip(`${name} [${b.label}: skipped, not on VPP yet: ${vppGap}]`, body, timeoutMs);
      else if (b.name === "vpp") test(`${name} [${b.label}]`, withVppDiagnostics(body), timeoutMs);
      else test(`${name} [${b.name}]`, body, timeoutMs);
    };
    register(b, t);
  }
}

/** A VPP test body whose failure also shows the last scenario's stderr and VPP log tail. */
function withVppDiagnostics(body: TestBody): TestBody {
  return async () => {
    try {
      await body();
    } catch (e) {
      const d = lastVppRunDiagnostics();
      if (e instanceof Error && d && !e.message.includes("VPP log")) e.message += `\n--- last VPP scenario: ${d}`;
      throw e;
    }
  };
}
