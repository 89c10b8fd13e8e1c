/**
 * The noise rule of comparisons: a figure measured over several rounds is a
 * range [min, max] around its median; two figures differ "beyond noise"
 * only when their ranges do not overlap, and a single round (no range at
 * all) never does. `bench --compare` (best marks, verdicts) and `bench diff`
 * (changes) both use it.
 */

/** A figure over its rounds (NaN rounds left out); n = rounds with a value. */
export interface Spread {
  median: number;
  min: number;
  max: number;
  n: number;
}

/** Median, min and max of the values that are numbers (all NaN, n 0, when none is). */
export function spreadOf(values: number[]): Spread {
  const s = values.filter((v) => !Number.isNaN(v)).sort((a, b) => a - b);
  if (!s.length) return { median: NaN, min: NaN, max: NaN, n: 0 };
  const mid = s.length >> 1;
  const median = s.length % 2 ? s[mid] : (s[mid - 1] + s[mid]) / 2;
  return { median, min: s[0], max: s[s.length - 1], n: s.length };
}

/** Whether two figures differ beyond noise: both have a spread (2+ rounds) and the ranges are apart. */
export function beyondNoise(a: Spread, b: Spread): boolean {
  return a.n >= 2 && b.n >= 2 && (a.min > b.max || b.min > a.max);
}

/** Which direction of a column is better. */
export type Better = "high" | "low";

/** One column's verdict at one load point. */
export interface Verdict {
  column: string;
  point: string;
  rounds: number;
  /** Labels best first, in groups whose neighbours are within noise of each other. */
  ranking: string[][];
  /** The best, when its range is apart from every other's; else null. */
  best: string | null;
  /** How much the best median beats the runner-up's, in % of the runner-up's (null without a runner-up). */
  marginPct: number | null;
  beyondNoise: boolean;
  /** The one line the report prints. */
  text: string;
}

/**
 * The verdict over `entries` (label and spread, the figures of one column
 * at one load point). Entries without a value are left out; null when fewer
 * than two remain.
 */
export function verdictOf(column: string, point: string, better: Better, rounds: number, entries: { label: string; spread: Spread }[]): Verdict | null {
  const valued = entries.filter((e) => e.spread.n > 0);
  if (valued.length < 2) return null;
  const sorted = [...valued].sort((a, b) => (better === "high" ? b.spread.median - a.spread.median : a.spread.median - b.spread.median));
  const ranking: string[][] = [[sorted[0].label]];
  for (let i = 1; i < sorted.length; i++) {
    if (beyondNoise(sorted[i - 1].spread, sorted[i].spread)) ranking.push([sorted[i].label]);
    else ranking[ranking.length - 1].push(sorted[i].label);
  }
  const [top, second] = sorted;
  const apart = sorted.slice(1).every((e) => beyondNoise(top.spread, e.spread));
  const marginPct = second.spread.median === 0 ? null : (Math.abs(top.spread.median - second.spread.median) / Math.abs(second.spread.median)) * 100;
  const head = `${column} (${point})`;
  const rel = better === "high" ? ">" : "<";
  const by = marginPct === null ? "" : ` by ${marginPct.toFixed(0)}%`;
  // Long groups shortened in the line (the ranking keeps every label).
  const order = ranking.map((g) => (g.length > 3 ? `${g.slice(0, 2).join(" ≈ ")} ≈ ${g.length - 2} more` : g.join(" ≈ "))).join(` ${rel} `);
  let text: string;
  if (sorted.every((e) => e.spread.min === top.spread.min && e.spread.max === top.spread.max)) text = `${head}: all equal (${top.spread.median})`;
  else if (rounds < 2) text = `${head}: ${top.label} ${rel} ${second.label}${by} in 1 round; one round has no spread, so nothing is beyond noise`;
  else if (apart) text = `${head}: ${top.label} ${rel} ${second.label}${by} (beyond noise, ${rounds} rounds)${ranking.length > 2 ? `; ${order}` : ""}`;
  else if (ranking.length > 1) text = `${head}: no single best beyond noise (${rounds} rounds): ${order}`;
  else text = `${head}: no difference beyond noise (${rounds} rounds)`;
  return { column, point, rounds, ranking, best: apart && rounds >= 2 ? top.label : null, marginPct, beyondNoise: apart && rounds >= 2, text };
}
