/**
 * The messages of one connection that were sent and not yet accounted for:
 * a ring indexed by sequence number holding the time the first byte was
 * written and a state. Entries leave from the oldest end once echoed (DONE)
 * or, when the ring is full, once given up as lost (MISSING: skipped over
 * by a later echo and never seen since). The ring grows on demand up to
 * `max` entries; beyond that a connection cannot start another message.
 */

const FREE = 0;
const SENT = 1;
const MISSING = 2;
const DONE = 3;
const STATE = 3;
const MEASURED = 4;

/** In-flight messages of one connection. */
export class InFlight {
  /** Oldest sequence number not yet retired. */
  base = 0;
  /** Sequence number of the next message to add (= messages started). */
  next = 0;
  /** Entries SENT: in flight, not skipped over. */
  outstanding = 0;
  /** Entries MISSING: a later message was echoed first. */
  missing = 0;
  /** MISSING entries retired without ever being echoed. */
  lost = 0;
  private time: Float64Array;
  private st: Uint8Array;
  private mask: number;

  constructor(
    initial: number,
    readonly max: number,
  ) {
    let n = 4;
    while (n < initial && n < max) n *= 2;
    this.time = new Float64Array(n);
    this.st = new Uint8Array(n);
    this.mask = n - 1;
  }

  /** True when one more message can be added (grows, or retires old MISSING entries as lost). */
  hasRoom(): boolean {
    for (;;) {
      if (this.next - this.base < this.st.length) return true;
      if (this.st.length < this.max) {
        this.grow();
        continue;
      }
      const k = this.base & this.mask;
      if ((this.st[k] & STATE) !== MISSING) return false;
      this.st[k] = (this.st[k] & ~STATE) | DONE;
      this.missing--;
      this.lost++;
      this.advance();
    }
  }

  /** Adds the next message (first byte written at t); returns its sequence number. */
  add(t: number, measured: boolean): number {
    const seq = this.next++;
    const k = seq & this.mask;
    this.time[k] = t;
    this.st[k] = SENT | (measured ? MEASURED : 0);
    this.outstanding++;
    return seq;
  }

  /** Time the first byte of seq was written (seq must be in the ring). */
  sentAt(seq: number): number {
    return this.time[seq & this.mask];
  }

  /** Whether seq counts in the measurement. */
  measured(seq: number): boolean {
    return (this.st[seq & this.mask] & MEASURED) !== 0;
  }

  /** Whether seq was skipped over and not seen since. */
  isMissing(seq: number): boolean {
    return seq >= this.base && seq < this.next && (this.st[seq & this.mask] & STATE) === MISSING;
  }

  /** Whether seq is in flight (sent, not skipped, not echoed). */
  isSent(seq: number): boolean {
    return seq >= this.base && seq < this.next && (this.st[seq & this.mask] & STATE) === SENT;
  }

  /** Marks the SENT entries in [from, to) MISSING. */
  markMissing(from: number, to: number): void {
    for (let s = Math.max(from, this.base); s < to && s < this.next; s++) {
      const k = s & this.mask;
      if ((this.st[k] & STATE) !== SENT) continue;
      this.st[k] = (this.st[k] & ~STATE) | MISSING;
      this.outstanding--;
      this.missing++;
    }
  }

  /** Accounts for seq (echoed, cleanly or not) and frees what can be freed. */
  retire(seq: number): void {
    if (seq < this.base || seq >= this.next) return;
    const k = seq & this.mask;
    const s = this.st[k] & STATE;
    if (s === SENT) this.outstanding--;
    else if (s === MISSING) this.missing--;
    else return;
    this.st[k] = (this.st[k] & ~STATE) | DONE;
    this.advance();
  }

  /** Send time of the oldest entry still in flight, or -1. */
  oldestSentAt(): number {
    if (this.outstanding === 0) return -1;
    for (let s = this.base; s < this.next; s++) if ((this.st[s & this.mask] & STATE) === SENT) return this.time[s & this.mask];
    return -1;
  }

  private advance(): void {
    while (this.base < this.next && (this.st[this.base & this.mask] & STATE) === DONE) this.st[this.base++ & this.mask] = FREE;
  }

  private grow(): void {
    const n = this.st.length * 2;
    const time = new Float64Array(n);
    const st = new Uint8Array(n);
    for (let s = this.base; s < this.next; s++) {
      time[s & (n - 1)] = this.time[s & this.mask];
      st[s & (n - 1)] = this.st[s & this.mask];
    }
    this.time = time;
    this.st = st;
    this.mask = n - 1;
  }
}
