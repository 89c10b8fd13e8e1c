/** Probe: the answers of shutdown(how) and of read/write after it. */
import type { Probe } from "../probe.ts";

const EPIPE = -32, ENOTCONN = -107, EINVAL = -22, EBADFD = -77, EAGAIN = -11;

/** The design's answer for each field of the 10-shutdown result (the embedded model's). */
const DESIGN: Record<string, unknown> = {
  unconnected: { rd: ENOTCONN, wr: ENOTCONN, rdwr: ENOTCONN },
  closedHandle: EBADFD,
  badHow: { three: EINVAL, minusOne: EINVAL, big: EINVAL },
  afterBadHowWorks: [true, true],
  wrBeforeOk: true,
  shutWr: 0,
  writeAfterShutWr: EPIPE,
  writeAfterShutWrAgain: EPIPE,
  peerReadAfterShutWr: 0,
  reverseAfterShutWr: true,
  readBeforeShutRd: EAGAIN,
  shutRd: 0,
  readAfterShutRd: 0,
  readAfterShutRdAgain: 0,
  writeAfterShutRdWorks: true,
  shutRdwr: 0,
  writeAfterRdwr: EPIPE,
  readAfterRdwr: 0,
  peerReadAfterRdwr: 0,
};

/**
 * One thread, connected pairs: shutdown of an unconnected session is
 * -ENOTCONN, a bad `how` -EINVAL (session unharmed), write after SHUT_WR
 * -EPIPE and the peer reads EOF, read after SHUT_RD 0, SHUT_RDWR both.
 * The difference names every answer that is not the design's.
 */
export const shutdown: Probe = {
  id: "shutdown",
  behaviour: "shutdown(how) answers like a socket: -ENOTCONN when unconnected, -EINVAL for a bad how, write after SHUT_WR -EPIPE while the peer reads EOF, read after SHUT_RD 0, SHUT_RDWR both.",
  kind: "design",
  scenario: "10-shutdown",
  args: () => ["single"],
  // The scenario waits up to 2 s twice for an EOF at the peer that may not come.
  timeoutMs: 10_000,
  judge({ result: r }) {
    if (!r || typeof r !== "object") throw new Error("no result");
    const missing = Object.keys(DESIGN).filter((k) => !(k in r));
    if (missing.length) throw new Error(`fields missing: ${missing.join(", ")}`);
    const diffs = Object.entries(DESIGN)
      .filter(([k, v]) => JSON.stringify(r[k]) !== JSON.stringify(v))
      .map(([k]) => `${k} ${JSON.stringify(r[k]).replace(/"/g, "")}`);
    return diffs.length ? `answers differ: ${diffs.join(", ")}` : null;
  },
};
