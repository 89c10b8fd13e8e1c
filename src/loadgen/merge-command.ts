/**
 * The `bench merge FILE.hlog ...` command: reads interval logs, adds them
 * (merge.ts), prints the report, writes --json/--hgrm/--hlog, checks --slo.
 * Exit: 0, 1 when errors were logged or an objective failed, 2 misuse.
 */
import { readFileSync, writeFileSync } from "node:fs";
import { basename } from "node:path";
import { parseStrict, UsageError } from "../common/args.ts";
import { encodeHistogram, summarise } from "../common/histogram.ts";
import { hgrmText, hlogText, parseHlog } from "./hdr-files.ts";
import { formatMerge, mergeLogs } from "./merge.ts";
import { latencyLines, REPORT_VERSION } from "./report.ts";
import { evaluateSlo, formatSlo, parseSlo } from "./slo.ts";

/** Usage of `bench merge`. */
export const MERGE_USAGE = `usage: bun run bench merge FILE.hlog [FILE.hlog ...] [options]

Adds interval logs written with --hlog (by one or several hosts) into one
measurement and prints it.

  --json FILE              write the merged report as JSON
  --hgrm FILE              write the merged percentile distribution
  --hlog FILE              write the merged interval log (one interval per second)
  --slo SPEC               objectives, as for bench (exit 1 if one fails)
  -h, --help               this text
`;

/** The flags `bench merge` accepts (every one is in MERGE_USAGE: test/cli-help.test.ts). */
export const OPTIONS = {
  json: { type: "string" },
  hgrm: { type: "string" },
  hlog: { type: "string" },
  slo: { type: "string" },
  help: { type: "boolean", short: "h" },
} as const;

/** Runs `bench merge`; returns the exit status. */
export function mergeMain(argv: string[]): number {
  const { values: v, positionals: files } = parseStrict(argv, OPTIONS, true);
  if (v.help) {
    process.stdout.write(MERGE_USAGE);
    return 0;
  }
  if (!files.length) throw new UsageError("merge needs at least one interval log: bench merge a.hlog b.hlog");
  const slo = v.slo !== undefined ? parseSlo(v.slo) : null;
  const logs = files.map((f) => {
    let text: string;
    try {
      text = readFileSync(f, "utf8");
    } catch (e) {
      throw new UsageError(`cannot read ${f}: ${(e as Error).message.split("\n")[0]}`);
    }
    let log;
    try {
      log = parseHlog(text);
    } catch (e) {
      throw new UsageError(`${f}: ${(e as Error).message}`);
    }
    if (!log.intervals.length) throw new UsageError(`${f} holds no interval histogram`);
    return log;
  });
  const m = mergeLogs(logs);
  const lines = [formatMerge(m, files.map((f) => basename(f)), latencyLines)];
  const outcomes = slo ? evaluateSlo(slo, { histogram: m.corrected, counts: { errors: m.errors ?? undefined }, rate: m.spanSec > 0 ? m.corrected.totalCount / m.spanSec : null }) : null;
  if (outcomes) lines.push(...formatSlo(outcomes));
  process.stdout.write(lines.join("\n") + "\n");
  const corrected = summarise(m.corrected);
  if (v.json) {
    const report = {
      version: REPORT_VERSION,
      merged: files,
      durationSec: m.spanSec,
      messages: m.corrected.totalCount,
      msgsPerSec: m.spanSec > 0 ? m.corrected.totalCount / m.spanSec : 0,
      errors: m.errors,
      latencyUs: m.uncorrected ? { ...corrected, corrected, uncorrected: summarise(m.uncorrected) } : corrected,
      histogram: encodeHistogram(m.corrected),
      ...(m.uncorrected ? { histogramUncorrected: encodeHistogram(m.uncorrected) } : {}),
      perSecond: m.perSecond.map((s) => ({ second: s.startSec, messages: s.messages, p50Us: s.p50Us, p99Us: s.p99Us, maxUs: s.maxUs })),
      ...(outcomes ? { slo: outcomes } : {}),
    };
    writeFileSync(v.json, JSON.stringify(report, null, 2) + "\n");
  }
  if (v.hgrm) writeFileSync(v.hgrm, hgrmText(m.corrected));
  if (v.hlog) writeFileSync(v.hlog, hlogText(m.perSecond, m.startEpochMs, { messages: m.corrected.totalCount, errors: m.errors ?? 0 }, `vlsbench merge of ${files.join(" ")}`));
  return (m.errors ?? 0) > 0 || outcomes?.some((o) => !o.pass) ? 1 : 0;
}
