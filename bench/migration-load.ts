/**
 * Echo load for the migration scenario: a connected session pair on the
 * calling thread (a client connected to a listener of this app, through
 * the relay app on VPP, and the session accepted for it), ping-ponged with 64-byte messages through VLS.
 * The owner thread runs one between its epoll waits, so clone RPCs wait for
 * a busy owner as they would in a loaded server; load threads run their own.
 */
import { raw, check } from "../src/native/ffi.ts";
import { listenTcpAnyPort, EPOLLIN, EPOLL_CTL_ADD, type BackendName } from "../src/native/vls.ts";
import { connectedPair } from "../src/check/scenarios/lib.ts";

const MSG = 64;

/** A session pair on this thread, echoing one 64-byte message at a time. */
export class PingPong {
  readonly client: number;
  readonly server: number;
  /** Round trips completed. */
  trips = 0;
  private readonly msg = new Uint8Array(new ArrayBuffer(MSG)).fill(0x5a);
  private readonly buf = new Uint8Array(new ArrayBuffer(4096));
  private inFlight = false;
  private back = 0;

  /** Non-blocking connect and accept (a same-app blocking connect hangs on
   * VPP; on VPP the connect goes through the scenarios' relay app, as VPP
   * 24.06 never completes an app's connect to its own listener). */
  constructor(backend: BackendName) {
    const { handle: listener, port } = listenTcpAnyPort({ host: "127.0.0.1", port: 0 }, backend);
    try {
      ({ c: this.client, s: this.server } = connectedPair(listener, port));
    } finally {
      raw.vlsb_close(listener);
    }
  }

  /** Adds both sessions to epoll set `ep` (readable wakes the loop). */
  watch(ep: number): void {
    check("vlsb_epoll_ctl", raw.vlsb_epoll_ctl(ep, EPOLL_CTL_ADD, this.client, EPOLLIN, this.client));
    check("vlsb_epoll_ctl", raw.vlsb_epoll_ctl(ep, EPOLL_CTL_ADD, this.server, EPOLLIN, this.server));
  }

  /** Moves the exchange on without blocking: receive the echo, send the
   * next message, echo it. A step leaves the echo readable on the client,
   * so a loop's next epoll wait returns at once, as in a loaded server. */
  step(): void {
    const m = raw.vlsb_read(this.client, this.buf, this.buf.length);
    if (m > 0 && (this.back += m) >= MSG) {
      this.back = 0;
      this.inFlight = false;
      this.trips++;
    }
    if (!this.inFlight && raw.vlsb_write(this.client, this.msg, MSG) === MSG) this.inFlight = true;
    const n = raw.vlsb_read(this.server, this.buf, this.buf.length);
    if (n > 0) check("vlsb_write", raw.vlsb_write(this.server, this.buf, n)); // 64 B: fits
  }

  close(): void {
    raw.vlsb_close(this.client);
    raw.vlsb_close(this.server);
  }
}

/** Runs a PingPong on a fresh epoll set until `stop()` is true; returns its round trips. */
export function runLoad(backend: BackendName, stop: () => boolean): number {
  const pp = new PingPong(backend);
  const ep = check("vlsb_epoll_create", raw.vlsb_epoll_create());
  pp.watch(ep);
  const evs = new Uint32Array(new ArrayBuffer(16 * 4));
  while (!stop()) {
    raw.vlsb_epoll_wait(ep, evs, 4, 5);
    pp.step();
  }
  raw.vlsb_close(ep);
  pp.close();
  return pp.trips;
}
