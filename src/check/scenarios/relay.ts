/**
 * A relay in a VCL app of its own, so that a scenario's app can connect to
 * its own listener on VPPs whose session layer refuses an app's connect to
 * a listener of the same app (VPP before mid-2026 routes such a connect
 * away from the app's own listener, and it never completes).
 *
 * A client connects to the relay and sends a 2-byte target port (network
 * order) first; the relay connects to 127.0.0.1:PORT and from then on
 * copies bytes both ways, passes a half close (EOF one way becomes a
 * SHUT_WR the same way) and closes both sides on an error. Single thread,
 * non-blocking, one VCL worker.
 *
 *   bun relay.ts APP_OPTIONS     prints "ready PORT", stops on SIGTERM
 */
import { appInit, listenTcpAnyPort, encodeEndpoint, O_NONBLOCK, EPOLL_CTL_ADD, PROTO_TCP } from "../../native/vls.ts";
import { raw, check } from "../../native/ffi.ts";
import { Errno } from "../../native/errno.ts";

const SHUT_WR = 1, EPOLLIN = 1;
const debugLog = process.env.VLSB_RELAY_LOG;
const debug = (line: string) => debugLog && require("node:fs").appendFileSync(debugLog, `${line}\n`);
const CHUNK = 65536;

/** -EAGAIN, or -ENOTCONN from the relayed side while its connect is still under way. */
const notYet = (rv: number) => rv === -Errno.EAGAIN || rv === -Errno.ENOTCONN;

/** One direction of a relayed connection. */
class Direction {
  private buf = new Uint8Array(new ArrayBuffer(CHUNK));
  private start = 0;
  private end = 0;
  /** The source said EOF (or the direction failed). */
  eof = false;
  /** SHUT_WR was passed on to the destination. */
  shut = false;

  constructor(private from: number, private to: number) {}

  /** Moves what it can; returns true on progress, throws on a failed call. */
  step(): boolean {
    let moved = false;
    if (this.start === this.end && !this.eof) {
      const n = raw.vlsb_read(this.from, this.buf, CHUNK);
      if (n > 0) {
        this.start = 0;
        this.end = n;
        moved = true;
      } else if (!notYet(n)) {
        debug(`read ${this.from}: ${n}`);
        this.eof = moved = true; // EOF, or a read side that failed: pass it on as EOF
      }
    }
    if (this.start < this.end) {
      const w = raw.vlsb_write(this.to, this.buf.subarray(this.start, this.end), this.end - this.start);
      if (w > 0) {
        this.start += w;
        moved = true;
      } else if (!notYet(w)) {
        debug(`write ${this.to}: ${w}`);
        throw new Error(`write ${w}`);
      }
    }
    if (this.eof && !this.shut && this.start === this.end) {
      debug(`shutdown ${this.to}: ${raw.vlsb_shutdown(this.to, SHUT_WR)}`);
      this.shut = moved = true;
    }
    return moved;
  }
}

/** A client session and, once its target port arrived, the relayed one. */
class RelayedPair {
  private header = new Uint8Array(new ArrayBuffer(2));
  private got = 0;
  private dirs: Direction[] = [];
  private target = -1;
  closed = false;

  constructor(private client: number) {}

  step(): boolean {
    if (this.closed) return false;
    try {
      if (this.target < 0) return this.readHeader();
      let moved = false;
      for (const d of this.dirs) moved = d.step() || moved;
      if (this.dirs.every((d) => d.shut)) this.close();
      return moved;
    } catch {
      this.close();
      return true;
    }
  }

  private readHeader(): boolean {
    const n = raw.vlsb_read(this.client, this.header.subarray(this.got), 2 - this.got);
    if (n === -Errno.EAGAIN) return false;
    if (n <= 0) throw new Error(`header read ${n}`);
    this.got += n;
    if (this.got < 2) return true;
    const port = (this.header[0] << 8) | this.header[1];
    const t = check("vlsb_create", raw.vlsb_create(PROTO_TCP, 1));
    const rv = raw.vlsb_connect(t, encodeEndpoint({ host: "127.0.0.1", port }));
    if (rv !== 0 && rv !== -Errno.EINPROGRESS) {
      raw.vlsb_close(t);
      throw new Error(`connect ${rv}`);
    }
    this.target = t;
    this.dirs = [new Direction(this.client, t), new Direction(t, this.client)];
    return true;
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    raw.vlsb_close(this.client);
    if (this.target >= 0) raw.vlsb_close(this.target);
  }
}

appInit("vpp", "single", process.argv[2] ?? "");
const { handle: listener, port } = listenTcpAnyPort({ host: "127.0.0.1", port: 0 }, "vpp", { nonblocking: true });
const ep = check("vlsb_epoll_create", raw.vlsb_epoll_create());
check("vlsb_epoll_ctl", raw.vlsb_epoll_ctl(ep, EPOLL_CTL_ADD, listener, EPOLLIN, 0));
const evs = new Uint32Array(new ArrayBuffer(12 * 16));
let stop = false;
process.on("SIGTERM", () => (stop = true));
console.log(`ready ${port}`);

let pairs: RelayedPair[] = [];
// The loop never blocks for long: each turn waits at most 1 ms in
// epoll_wait (which also drains VCL's message queue: accepts and connect
// completions only show after that), then moves what every pair can.
// The SIGTERM handler runs between turns, when the event loop gets a tick.
async function main() {
  while (!stop) {
    for (let turn = 0; turn < 200; turn++) {
      let moved = raw.vlsb_epoll_wait(ep, evs, 16, 0) > 0;
      for (;;) {
        const h = raw.vlsb_accept(listener, null, O_NONBLOCK);
        if (h < 0) break;
        pairs.push(new RelayedPair(h));
        moved = true;
      }
      for (const p of pairs) moved = p.step() || moved;
      pairs = pairs.filter((p) => !p.closed);
      if (!moved) raw.vlsb_epoll_wait(ep, evs, 16, 1);
    }
    await Bun.sleep(0);
  }
  for (const p of pairs) p.close();
  raw.vlsb_close(listener);
  process.exit(0);
}
void main();
