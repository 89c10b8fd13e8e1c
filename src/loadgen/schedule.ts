/**
 * The open-loop schedule. Message g of the whole run (g = 0, 1, 2, ...) is
 * intended at start + g / rate and goes to connection g mod C, so every
 * connection sends at rate / C and the connections' sends interleave evenly.
 * The k-th message of connection c is g = k * C + c. A worker walks its own
 * connections' messages in global order with a cursor; the run's measured
 * messages are g in [g0, g1) (after warm-up, before the end).
 *
 * Sends are never skipped and never re-timed: a message that could not be
 * written on time keeps its intended time, so its latency counts from it
 * (coordinated-omission correction). The schedule does not catch up either:
 * the next message is due at its own time, whatever happened before.
 */

/** Global message indexes [g0, g1) measured for a run. */
export function measuredRange(rate: number, warmupSec: number, durationSec: number, count: number | null): { g0: number; g1: number } {
  const g0 = Math.ceil(warmupSec * rate - 1e-6);
  return { g0, g1: count !== null ? g0 + count : Math.ceil((warmupSec + durationSec) * rate - 1e-6) };
}

/** One worker's view of the schedule. */
export class Schedule {
  /** ns between consecutive messages of the run. */
  readonly periodNs: number;
  private k = 0;
  /** Local index of the connection the next message goes to. */
  j = 0;
  /** Intended time of the next message (ns), Infinity once past g1. */
  nextNs: number;

  constructor(
    readonly startNs: number,
    rate: number,
    readonly totalConns: number,
    readonly connBase: number,
    readonly conns: number,
    readonly g1: number,
  ) {
    this.periodNs = 1e9 / rate;
    this.nextNs = this.at(0, 0);
  }

  /** Global index of message seq of local connection c. */
  index(seq: number, c: number): number {
    return seq * this.totalConns + this.connBase + c;
  }

  /** Intended time (ns) of message seq of local connection c. */
  intendedNs(seq: number, c: number): number {
    return this.startNs + this.index(seq, c) * this.periodNs;
  }

  /** Moves the cursor to the worker's next message. */
  advance(): void {
    if (++this.j === this.conns) {
      this.j = 0;
      this.k++;
    }
    this.nextNs = this.at(this.k, this.j);
  }

  /**
   * Moves the cursor past every message intended at or before nowNs and calls
   * onDue(c, n) for each local connection c with n > 0 of them. A few due
   * messages are walked one by one; many (a rate far above what the run
   * sustains, where stepping would cost the loop O(asked rate) per second)
   * are counted per connection arithmetically, O(conns).
   */
  advanceTo(nowNs: number, onDue: (c: number, n: number) => void): void {
    if (this.nextNs > nowNs) return;
    const T = this.totalConns;
    let gLast = Math.min(this.g1 - 1, Math.floor((nowNs - this.startNs) / this.periodNs));
    // Agree exactly with intendedNs(), whatever the division rounded to.
    while (gLast + 1 < this.g1 && this.startNs + (gLast + 1) * this.periodNs <= nowNs) gLast++;
    while (gLast >= 0 && this.startNs + gLast * this.periodNs > nowNs) gLast--;
    const gNext = this.index(this.k, this.j);
    if (gLast - gNext < 4 * T) {
      while (this.nextNs <= nowNs) {
        onDue(this.j, 1);
        this.advance();
      }
      return;
    }
    let bestG = Infinity;
    let bestK = 0;
    let bestJ = 0;
    for (let c = 0; c < this.conns; c++) {
      const first = c >= this.j ? this.k : this.k + 1;
      const last = Math.floor((gLast - this.connBase - c) / T);
      const n = last - first + 1;
      if (n > 0) onDue(c, n);
      const nk = Math.max(first, last + 1);
      const g = this.index(nk, c);
      if (g < bestG) {
        bestG = g;
        bestK = nk;
        bestJ = c;
      }
    }
    this.k = bestK;
    this.j = bestJ;
    this.nextNs = this.at(bestK, bestJ);
  }

  private at(k: number, j: number): number {
    return this.index(k, j) < this.g1 ? this.intendedNs(k, j) : Infinity;
  }
}

/** How to wait until the next event: an epoll timeout, after an optional precise sleep. */
export interface WaitPlan {
  /** Sleep this long first (ms, fractional), with nothing to read or write meanwhile. */
  sleepMs: number;
  /** epoll_wait timeout (ms): 0 polls. */
  epollMs: number;
}

/**
 * The wait before the next scheduled send dueInNs from now. Far (> 1.2 ms):
 * a 1 ms epoll wait (it wakes early on replies). Near: poll (epoll timeout 0)
 * while anything is in flight, so reply times stay exact; with nothing in
 * flight, sleep precisely until ~100 µs before, then poll. Nothing scheduled
 * (closed loop, drain): a 5 ms epoll wait. Fills `out` (no allocation in the loop).
 */
export function planWait(dueInNs: number, busy: boolean, out: WaitPlan = { sleepMs: 0, epollMs: 0 }): WaitPlan {
  out.sleepMs = 0;
  out.epollMs = 0;
  if (dueInNs === Infinity) out.epollMs = 5;
  else if (dueInNs > 1.2e6) out.epollMs = 1;
  else if (!busy && dueInNs > 150e3) out.sleepMs = (dueInNs - 100e3) / 1e6;
  return out;
}
