/**
 * Checks the echoed byte stream of one connection, message by message,
 * against what was sent, and classifies every mismatch:
 *
 * - at a message boundary the 8-byte header names the message that arrived
 *   (seq, connection); expected seq -> its body is compared byte for byte;
 * - a seq below the expected one: REORDERED when it had been skipped over
 *   (MISSING in the ring), else DUPLICATED; its bytes are consumed (the size
 *   of any message is known, message.ts) and the stream goes on;
 * - a seq above the expected one: the ones in between become MISSING (they
 *   are reordered if they show up later, lost if they never do);
 * - right header, wrong body: CORRUPT, the rest of that message is skipped;
 * - a header naming another connection or a message never sent: CORRUPT,
 *   and the stream cannot be resynchronised (`fatal` is set; the caller
 *   closes the connection).
 *
 * Messages shorter than the header are compared whole; a mismatch there is
 * CORRUPT. Only clean, in-order messages reach onMessage.
 */
import type { InFlight } from "./inflight.ts";
import { HEADER_BYTES, messageSize, readU32, writeHeader } from "./message.ts";

const BOUNDARY = 0;
const CHECK = 1;
const REORDER = 2;
const SKIP = 3;

/** Whether a[ai..ai+n) equals b[bi..bi+n); short ranges in JS (cheaper than a native call). */
function same(a: Buffer, ai: number, b: Buffer, bi: number, n: number): boolean {
  if (n > 64) return a.compare(b, bi, bi + n, ai, ai + n) === 0;
  for (let i = 0; i < n; i++) if (a[ai + i] !== b[bi + i]) return false;
  return true;
}

/** Called for each cleanly echoed, in-order message. */
export type OnMessage = (seq: number, size: number) => void;

/** The echo checker of one connection. */
export class EchoChecker {
  /** Next sequence number expected in order. */
  expect = 0;
  corrupt = 0;
  duplicated = 0;
  reordered = 0;
  /** Why the stream cannot be followed any more (the connection must close). */
  fatal: string | null = null;
  private mode = BOUNDARY;
  private cur = 0;
  private curSize = 0;
  private curOff = 0;
  private clean = true;
  private hdr = new Uint8Array(HEADER_BYTES);
  private hdrLen = 0;

  constructor(
    readonly conn: number,
    private readonly ring: InFlight,
    private readonly lo: number,
    private readonly hi: number,
    /** The worker's pattern buffer (its header is rewritten before each use). */
    private readonly pattern: Buffer,
    private readonly onMessage: OnMessage,
  ) {}

  /** Consumes n echoed bytes from buf. */
  feed(buf: Buffer, n: number): void {
    let pos = 0;
    while (pos < n && this.fatal === null) {
      if (this.mode === BOUNDARY) {
        const size = messageSize(this.lo, this.hi, this.conn, this.expect);
        if (size < HEADER_BYTES) {
          this.begin(CHECK, this.expect, 0);
          this.expect++;
          continue;
        }
        const take = Math.min(HEADER_BYTES - this.hdrLen, n - pos);
        for (let i = 0; i < take; i++) this.hdr[this.hdrLen + i] = buf[pos + i];
        this.hdrLen += take;
        pos += take;
        if (this.hdrLen < HEADER_BYTES) return;
        this.hdrLen = 0;
        this.classify(readU32(this.hdr, 0), readU32(this.hdr, 4));
        continue;
      }
      const k = Math.min(this.curSize - this.curOff, n - pos);
      if (this.clean && this.mode !== SKIP) {
        writeHeader(this.pattern, this.conn, this.cur);
        if (!same(buf, pos, this.pattern, this.curOff, k)) this.clean = false;
      }
      pos += k;
      this.curOff += k;
      if (this.curOff === this.curSize) this.finish();
    }
  }

  private classify(seq: number, conn: number): void {
    if (conn !== this.conn || seq >= this.ring.next || messageSize(this.lo, this.hi, conn, seq) < HEADER_BYTES) {
      this.corrupt++;
      this.fatal = conn !== this.conn ? `header names connection ${conn}, not ${this.conn}` : `header names message ${seq}, never sent`;
      return;
    }
    if (seq === this.expect) {
      this.begin(CHECK, seq, HEADER_BYTES);
      this.expect++;
    } else if (seq > this.expect) {
      this.ring.markMissing(this.expect, seq);
      this.begin(CHECK, seq, HEADER_BYTES);
      this.expect = seq + 1;
    } else if (this.ring.isMissing(seq)) {
      this.begin(REORDER, seq, HEADER_BYTES);
    } else {
      this.duplicated++;
      this.begin(SKIP, seq, HEADER_BYTES);
    }
  }

  private begin(mode: number, seq: number, off: number): void {
    this.mode = mode;
    this.cur = seq;
    this.curSize = messageSize(this.lo, this.hi, this.conn, seq);
    this.curOff = off;
    this.clean = true;
    if (off >= this.curSize) this.finish();
  }

  private finish(): void {
    const { mode, cur } = this;
    this.mode = BOUNDARY;
    if (mode === SKIP) return;
    if (!this.clean) this.corrupt++;
    else if (mode === REORDER) this.reordered++;
    if (this.clean && mode === CHECK) this.onMessage(cur, this.curSize);
    this.ring.retire(cur);
  }
}
