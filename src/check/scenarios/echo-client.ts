/**
 * A plain kernel-socket echo client for tests (node:net, independent of the
 * native core): sends a payload and resolves with exactly what came back.
 */
import { connect } from "node:net";
import { xorshift32 } from "../../common/xorshift.ts";

/** How echoOnce sends: `writes` > 0 splits the payload into that many writes, each in its own event-loop turn (so they are not coalesced into one buffer); otherwise 64 KiB chunks at once. */
export interface EchoOptions {
  writes?: number;
}

/** Sends payload and collects payload.length bytes; rejects on timeout, error, or a close before everything came back. */
export function echoOnce(port: number, payload: Uint8Array, timeoutMs = 20_000, opts: EchoOptions = {}): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const sock = connect({ host: "127.0.0.1", port });
    const chunks: Buffer[] = [];
    let got = 0;
    const timer = setTimeout(() => {
      sock.destroy();
      reject(new Error(`echo of ${payload.length} B: only ${got} B back after ${timeoutMs} ms`));
    }, timeoutMs);
    sock.on("connect", async () => {
      if (!opts.writes) {
        for (let off = 0; off < payload.length; off += 65536) sock.write(payload.subarray(off, off + 65536));
        return;
      }
      const step = Math.ceil(payload.length / opts.writes);
      for (let off = 0; off < payload.length; off += step) {
        sock.write(payload.subarray(off, off + step));
        await new Promise((r) => setImmediate(r));
      }
    });
    sock.on("data", (d: Buffer) => {
      chunks.push(d);
      got += d.length;
      if (got >= payload.length) {
        clearTimeout(timer);
        sock.end();
        resolve(Buffer.concat(chunks));
      }
    });
    sock.on("error", (e) => {
      clearTimeout(timer);
      reject(e);
    });
    sock.on("close", () => {
      if (got < payload.length) {
        clearTimeout(timer);
        reject(new Error(`closed by the server after ${got}/${payload.length} B`));
      }
    });
  });
}

/** Deterministic pseudo-random bytes. */
export function randomBytes(n: number, seed: number): Uint8Array {
  const out = new Uint8Array(n);
  let x = seed >>> 0 || 1;
  for (let i = 0; i < n; i++) {
    x = xorshift32(x);
    out[i] = x & 0xff;
  }
  return out;
}
