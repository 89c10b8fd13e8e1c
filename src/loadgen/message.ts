/**
 * Message contents and sizes. Every message differs: its first 8 bytes are
 * its sequence number and its connection's id (little endian), byte 8 mixes
 * both, and the rest is a pattern fixed per load worker. The size of a
 * message is a function of (connection, sequence), so the receiver knows
 * the size of any message it sees, even one it did not expect, and can
 * resynchronise on the stream after a duplicate, a gap or a corrupt body.
 */
import { xorshift32 } from "../common/xorshift.ts";

/** Bytes of the header (seq u32, conn u32); shorter messages carry a prefix of it. */
export const HEADER_BYTES = 8;

/** Size of message seq of connection conn: lo when fixed, else uniform in [lo, hi]. */
export function messageSize(lo: number, hi: number, conn: number, seq: number): number {
  if (lo === hi) return lo;
  let h = Math.imul(seq ^ 0x9e3779b9, 0x85ebca6b) ^ Math.imul(conn + 0x632be5ab, 0xc2b2ae35);
  h ^= h >>> 16;
  h = Math.imul(h, 0x7feb352d);
  h ^= h >>> 15;
  return lo + ((h >>> 0) % (hi - lo + 1));
}

/** A fresh ArrayBuffer-backed buffer of n bytes holding the body pattern for seed. */
export function newPattern(n: number, seed: number): Uint8Array {
  const msg = new Uint8Array(new ArrayBuffer(Math.max(n, HEADER_BYTES + 1)));
  let x = (seed * 2654435761 + 1) >>> 0 || 1;
  for (let i = HEADER_BYTES + 1; i < msg.length; i++) {
    x = xorshift32(x);
    msg[i] = x & 0xff;
  }
  return msg;
}

/** Writes the header of (conn, seq) over the first 9 bytes of a pattern buffer. */
export function writeHeader(buf: Uint8Array, conn: number, seq: number): void {
  buf[0] = seq & 0xff;
  buf[1] = (seq >>> 8) & 0xff;
  buf[2] = (seq >>> 16) & 0xff;
  buf[3] = (seq >>> 24) & 0xff;
  buf[4] = conn & 0xff;
  buf[5] = (conn >>> 8) & 0xff;
  buf[6] = (conn >>> 16) & 0xff;
  buf[7] = (conn >>> 24) & 0xff;
  buf[8] = (Math.imul(seq, 31) + conn) & 0xff;
}

/** Reads a little-endian u32 at off. */
export function readU32(b: Uint8Array, off: number): number {
  return (b[off] | (b[off + 1] << 8) | (b[off + 2] << 16) | (b[off + 3] << 24)) >>> 0;
}
