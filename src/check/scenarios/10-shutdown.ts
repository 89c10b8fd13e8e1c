/**
 * Behaviour 10: shutdown(how) then read/write, on one thread.
 *   write after SHUT_WR -> -EPIPE, the peer reads EOF, the other direction works;
 *   read after SHUT_RD -> 0 (not -EAGAIN), writing still works;
 *   SHUT_RDWR -> both; a bad `how` -> -EINVAL (session unharmed);
 *   an unconnected session -> -ENOTCONN; a closed handle -> -EBADFD.
 *
 *   bun 10-shutdown.ts BACKEND MODE
 */
import { scenario, stage, raw, check, Errno, connectedPair, transfer, randomPayload, equalBytes, nowMs, loopback } from "./lib.ts";
import { initApp } from "./app.ts";
import { listenTcpAnyPort, SHUT_RD, SHUT_WR, SHUT_RDWR, PROTO_TCP } from "../../native/vls.ts";

scenario(async ({ backend, mode }) => {
  await initApp(backend, mode, "", { selfConnect: true });
  const { handle: listener, port } = listenTcpAnyPort(loopback(0), backend);
  const buf = new Uint8Array(new ArrayBuffer(4096));

  /** A connected pair (client, server side), both non-blocking. */
  const pair = () => connectedPair(listener, port);
  /** Reads once the first non-EAGAIN result comes (or -EAGAIN after ms). */
  const readSettled = (h: number, ms: number) => {
    const end = nowMs() + ms;
    for (;;) {
      const r = raw.vlsb_read(h, buf, buf.length);
      if (r !== -Errno.EAGAIN || nowMs() > end) return r;
      Bun.sleepSync(1);
    }
  };
  /** true when n bytes went from -> to intact; else what went wrong. */
  const roundTrip = (from: number, to: number, n: number): true | string => {
    const p = randomPayload(n);
    try {
      return equalBytes(transfer(from, to, p, 5000), p) || "bytes differ";
    } catch (e) {
      return (e as Error).message;
    }
  };

  stage("unconnected session");
  const u = check("vlsb_create", raw.vlsb_create(PROTO_TCP, 1));
  const unconnected = { rd: raw.vlsb_shutdown(u, SHUT_RD), wr: raw.vlsb_shutdown(u, SHUT_WR), rdwr: raw.vlsb_shutdown(u, SHUT_RDWR) };
  raw.vlsb_close(u);
  const closedHandle = raw.vlsb_shutdown(u, SHUT_RDWR);

  stage("bad how");
  const p0 = pair();
  const badHow = { three: raw.vlsb_shutdown(p0.c, 3), minusOne: raw.vlsb_shutdown(p0.c, -1), big: raw.vlsb_shutdown(p0.c, 1000) };
  const afterBadHowWorks = [roundTrip(p0.c, p0.s, 1000), roundTrip(p0.s, p0.c, 1000)];

  stage("SHUT_WR");
  const p1 = pair();
  const wrBeforeOk = roundTrip(p1.c, p1.s, 20_000);
  const shutWr = raw.vlsb_shutdown(p1.c, SHUT_WR);
  const writeAfterShutWr = raw.vlsb_write(p1.c, buf, 10);
  const writeAfterShutWrAgain = raw.vlsb_write(p1.c, buf, 10);
  const peerReadAfterShutWr = readSettled(p1.s, 2000); // EOF
  const reverseAfterShutWr = roundTrip(p1.s, p1.c, 20_000); // the read side stays open

  stage("SHUT_RD");
  const p2 = pair();
  const readBeforeShutRd = raw.vlsb_read(p2.s, buf, buf.length); // nothing sent yet: -EAGAIN
  const shutRd = raw.vlsb_shutdown(p2.s, SHUT_RD);
  const readAfterShutRd = raw.vlsb_read(p2.s, buf, buf.length);
  const readAfterShutRdAgain = raw.vlsb_read(p2.s, buf, buf.length);
  const writeAfterShutRdWorks = roundTrip(p2.s, p2.c, 20_000);

  stage("SHUT_RDWR");
  const p3 = pair();
  const shutRdwr = raw.vlsb_shutdown(p3.c, SHUT_RDWR);
  const writeAfterRdwr = raw.vlsb_write(p3.c, buf, 10);
  const readAfterRdwr = raw.vlsb_read(p3.c, buf, buf.length);
  const peerReadAfterRdwr = readSettled(p3.s, 2000);

  for (const p of [p0, p1, p2, p3]) {
    raw.vlsb_close(p.c);
    raw.vlsb_close(p.s);
  }
  raw.vlsb_close(listener);
  raw.vlsb_app_fini();
  return {
    unconnected, closedHandle, badHow, afterBadHowWorks,
    wrBeforeOk, shutWr, writeAfterShutWr, writeAfterShutWrAgain, peerReadAfterShutWr, reverseAfterShutWr,
    readBeforeShutRd, shutRd, readAfterShutRd, readAfterShutRdAgain, writeAfterShutRdWorks,
    shutRdwr, writeAfterRdwr, readAfterRdwr, peerReadAfterRdwr,
  };
});
