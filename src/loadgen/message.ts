/**
 * Message contents: every message of a connection differs (sequence number
 * and connection id in its first 8 bytes, a pattern derived from both in
 * the rest), so a lost, stale, duplicated or reordered echo never passes
 * the byte-for-byte check.
 */

/** Fills msg for (conn, seq). msg must be ArrayBuffer-backed. */
export function fillMessage(msg: Uint8Array, conn: number, seq: number): void {
  const n = msg.length;
  const head = Math.min(8, n);
  const hdr = [seq & 0xff, (seq >>> 8) & 0xff, (seq >>> 16) & 0xff, (seq >>> 24) & 0xff, conn & 0xff, (conn >>> 8) & 0xff, (conn >>> 16) & 0xff, (conn >>> 24) & 0xff];
  for (let i = 0; i < head; i++) msg[i] = hdr[i];
  // The body changes only in one byte per message: cheap, still unique.
  if (n > 8) msg[8] = (seq * 31 + conn) & 0xff;
}

/** Initial body pattern (bytes 9..n-1), written once per connection. */
export function initMessage(msg: Uint8Array, conn: number): void {
  let x = (conn * 2654435761) >>> 0 || 1;
  for (let i = 9; i < msg.length; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    msg[i] = x & 0xff;
  }
}
