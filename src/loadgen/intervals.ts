/**
 * Merges the workers' per-second ticks on the main thread: each tick's
 * counts go into the run's totals and into that second's histogram; once
 * every worker has reported a second, it is handed on (live progress, the
 * interval log) as an encoded histogram, and its memory is reused.
 */
import type * as hdr from "hdr-histogram-js";
import { newHistogram, encodeHistogram } from "../common/histogram.ts";
import { addSparse } from "./histogram.ts";
import type { WorkerTick } from "./protocol.ts";

/** One second of the whole run (the last one runs to the end of the drain). */
export interface Interval {
  index: number;
  /** Seconds from the start of the measurement. */
  startSec: number;
  lengthSec: number;
  messages: number;
  /** Errors of every kind so far (cumulative). */
  errors: number;
  /** Encoded histograms, when kept (--hlog). */
  encoded: { corrected: string; uncorrected: string | null } | null;
}

interface Open {
  index: number;
  reported: number;
  startNs: number;
  endNs: number;
  messages: number;
  errors: number;
  corrected: hdr.Histogram;
  uncorrected: hdr.Histogram | null;
}

/** Collects ticks from `workers` workers. */
export class IntervalMerger {
  /** Every measured message of the run. */
  readonly corrected = newHistogram();
  readonly uncorrected = newHistogram();
  /** Completed intervals (encoded histograms only when keep). */
  readonly done: Interval[] = [];
  private open = new Map<number, Open>();
  private spare: hdr.Histogram[] = [];

  constructor(
    private workers: number,
    private measureStartNs: number,
    private keep: boolean,
    /** Called once per interval; `corrected` (ns) is only valid during the call. */
    private onInterval: ((iv: Interval, corrected: hdr.Histogram) => void) | null,
  ) {}

  /** Adds one worker's tick. */
  add(t: WorkerTick): void {
    addSparse(this.corrected, t.corrected);
    if (t.uncorrected) addSparse(this.uncorrected, t.uncorrected);
    let iv = this.open.get(t.index);
    if (!iv) {
      iv = { index: t.index, reported: 0, startNs: t.startNs, endNs: t.endNs, messages: 0, errors: 0, corrected: this.histogram(), uncorrected: t.uncorrected ? this.histogram() : null };
      this.open.set(t.index, iv);
    }
    iv.reported++;
    iv.endNs = Math.max(iv.endNs, t.endNs);
    iv.messages += t.messages;
    iv.errors += t.errors;
    addSparse(iv.corrected, t.corrected);
    if (t.uncorrected && iv.uncorrected) addSparse(iv.uncorrected, t.uncorrected);
    if (iv.reported === this.workers) this.close(iv);
  }

  /** Closes what is left (workers that failed never report); returns every interval in order. */
  finish(): Interval[] {
    for (const iv of [...this.open.values()].sort((a, b) => a.index - b.index)) this.close(iv);
    return this.done.sort((a, b) => a.index - b.index);
  }

  private close(iv: Open): void {
    this.open.delete(iv.index);
    const out: Interval = {
      index: iv.index,
      startSec: (iv.startNs - this.measureStartNs) / 1e9,
      lengthSec: Math.max(0, (iv.endNs - iv.startNs) / 1e9),
      messages: iv.messages,
      errors: iv.errors,
      encoded: this.keep ? { corrected: encodeHistogram(iv.corrected), uncorrected: iv.uncorrected ? encodeHistogram(iv.uncorrected) : null } : null,
    };
    this.onInterval?.(out, iv.corrected);
    this.done.push(out);
    for (const h of [iv.corrected, iv.uncorrected]) {
      if (!h) continue;
      h.reset();
      this.spare.push(h);
    }
  }

  private histogram(): hdr.Histogram {
    return this.spare.pop() ?? newHistogram();
  }
}
