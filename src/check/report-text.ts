/** The terminal report of a check: one row per probe, one column per target, then the details. */
import type { CheckResult } from "./check-run.ts";
import type { ProbeTally } from "./runner.ts";
import type { OutcomeKind } from "./outcome.ts";
import { seenBefore, usualOutcome } from "./known.ts";

const ORDER: OutcomeKind[] = ["ok", "differs", "crash", "hang", "error"];

/** "ok 5/5" or "crash 3/5, ok 2/5" (most frequent first); "-" when the probe does not apply. */
export function cellText(t: ProbeTally | undefined): string {
  if (!t) return "-";
  if (t.runs === 0) return "not run";
  return ORDER.filter((k) => t.counts[k] > 0)
    .sort((a, b) => t.counts[b] - t.counts[a])
    .map((k) => `${k} ${t.counts[k]}/${t.runs}`)
    .join(", ");
}

/** The outcome most runs of a tally ended in. */
export function dominant(t: ProbeTally): OutcomeKind {
  return ORDER.reduce((best, k) => (t.counts[k] > t.counts[best] ? k : best), "ok" as OutcomeKind);
}

/** The whole report as text. */
export function checkReportText(r: CheckResult): string {
  const find = (probe: string, target: string) => r.tallies.find((t) => t.probe === probe && t.target === target);
  const head = ["probe", ...r.targets.map((t) => t.label)];
  const rows = r.probes.map((p) => [p.id, ...r.targets.map((t) => cellText(find(p.id, t.label)))]);
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((row) => row[i].length)));
  const line = (cells: string[]) => cells.map((c, i) => c.padEnd(widths[i])).join("  ").trimEnd();
  const runs = r.tallies.reduce((a, t) => a + t.runs, 0);
  const out = [
    `vlsbench check: ${r.probes.length} probes x ${r.targets.length} target${r.targets.length > 1 ? "s" : ""}, ${r.repeat} run${r.repeat > 1 ? "s" : ""} each (${runs} runs, ${(r.elapsedMs / 1000).toFixed(0)} s)${r.interrupted ? " - INTERRUPTED: partial counts" : ""}`,
    ...r.targets.filter((t) => t.backend === "vpp").map((t) => `  ${t.label}: ${t.fullVersion} at ${t.prefix}`),
    ...r.notes.map((n) => `note: ${n}`),
    "",
    line(head),
    ...rows.map(line),
    "",
    "what differed (probe on target: outcome count - detail; seen before):",
  ];
  let any = false;
  for (const t of r.tallies) {
    const target = r.targets.find((x) => x.label === t.target)!;
    const before = target.backend === "vpp" ? seenBefore(t.probe, target.version) : "";
    const usual = target.backend === "vpp" ? usualOutcome(t.probe, target.version) : null;
    const changed = usual && t.runs > 0 && usual !== dominant(t) ? `  CHANGED: mostly ${usual} before, ${dominant(t)} now${usual !== "ok" && dominant(t) === "ok" ? " (fixed in this VPP?)" : ""}` : "";
    for (const d of t.details) {
      any = true;
      out.push(`  ${t.probe} on ${t.target}: ${d.kind} ${d.count}/${t.runs} - ${d.detail}${before ? `; seen before on ${target.version}: ${before}` : ""}`);
    }
    if (changed) {
      any = true;
      out.push(`  ${t.probe} on ${t.target}:${changed}`);
    }
  }
  if (!any) out.push("  nothing: every run showed the design's behaviour");
  out.push("", "probes:");
  for (const p of r.probes) out.push(`  ${p.id} (${p.kind}): ${p.behaviour}`);
  return out.join("\n") + "\n";
}
