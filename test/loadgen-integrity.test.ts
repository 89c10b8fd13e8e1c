// Integrity: the echo checker classifies lost, corrupt, duplicated and
// reordered messages (unit), and bench counts each separately against a
// faulty echo server that drops, duplicates, swaps and corrupts one
// message each (end to end, exit 1).
import { describe, test, expect, afterAll } from "bun:test";
import { readFileSync, mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { InFlight } from "../src/loadgen/inflight.ts";
import { EchoChecker } from "../src/loadgen/echo-checker.ts";
import { newPattern, writeHeader, readU32 } from "../src/loadgen/message.ts";
import { runCli, BENCH } from "./helpers/cli.ts";

const SIZE = 32;
const CONN = 7;

/** A checker over a ring of n sent messages; returns it and the in-order seqs it accepted. */
function setup(n: number) {
  const ring = new InFlight(8, 1024);
  for (let i = 0; i < n; i++) ring.add(i, true);
  const pattern = Buffer.from(newPattern(SIZE, 1).buffer);
  const got: number[] = [];
  const checker = new EchoChecker(CONN, ring, SIZE, SIZE, pattern, (seq) => got.push(seq));
  const msg = (seq: number, conn = CONN) => {
    const p = Buffer.from(newPattern(SIZE, 1).buffer);
    writeHeader(p, conn, seq);
    return p.subarray(0, SIZE);
  };
  const feed = (...bufs: Buffer[]) => {
    const all = Buffer.concat(bufs);
    const rb = Buffer.from(new ArrayBuffer(all.length));
    all.copy(rb);
    checker.feed(rb, rb.length);
  };
  return { ring, checker, got, msg, feed };
}

describe("echo checker", () => {
  test("in-order stream, header split across reads", () => {
    const { checker, got, msg, feed, ring } = setup(3);
    const all = Buffer.concat([msg(0), msg(1), msg(2)]);
    for (const [a, b] of [[0, 3], [3, 40], [40, 96]]) feed(all.subarray(a, b));
    expect(got).toEqual([0, 1, 2]);
    expect([checker.corrupt, checker.duplicated, checker.reordered, ring.missing, ring.outstanding]).toEqual([0, 0, 0, 0, 0]);
  });

  test("a gap then the skipped one: reordered; a repeat: duplicated", () => {
    const { checker, got, msg, feed, ring } = setup(4);
    feed(msg(0), msg(2), msg(1), msg(2), msg(3));
    expect(got).toEqual([0, 2, 3]);
    expect(checker.reordered).toBe(1);
    expect(checker.duplicated).toBe(1);
    expect(ring.missing).toBe(0);
    expect(ring.outstanding).toBe(0);
  });

  test("a gap never filled stays missing (lost at the end)", () => {
    const { got, msg, feed, ring } = setup(3);
    feed(msg(0), msg(2));
    expect(got).toEqual([0, 2]);
    expect(ring.missing).toBe(1);
  });

  test("right header, wrong body: corrupt, and the stream goes on", () => {
    const { checker, got, msg, feed } = setup(2);
    const bad = Buffer.from(msg(0));
    bad[20] ^= 0xff;
    feed(bad, msg(1));
    expect(got).toEqual([1]);
    expect(checker.corrupt).toBe(1);
    expect(checker.fatal).toBeNull();
  });

  test("another connection's header or a message never sent: fatal", () => {
    const a = setup(2);
    a.feed(a.msg(0, CONN + 1));
    expect(a.checker.fatal).toMatch(/connection/);
    const b = setup(2);
    b.feed(b.msg(5));
    expect(b.checker.fatal).toMatch(/never sent/);
    expect(b.checker.corrupt).toBe(1);
  });
});

/**
 * A Bun.listen echo of 64-byte messages that, on the connection whose id is
 * 0, drops message 100, echoes 200 twice, swaps 300 and 301, and flips a
 * byte of 400.
 */
function faultyEcho() {
  return Bun.listen<{ buf: Buffer; held: Buffer | null }>({
    hostname: "127.0.0.1",
    port: 0,
    socket: {
      open(s) {
        s.data = { buf: Buffer.alloc(0), held: null };
      },
      data(s, chunk) {
        const d = s.data;
        d.buf = Buffer.concat([d.buf, chunk]);
        const out: Buffer[] = [];
        while (d.buf.length >= 64) {
          const m = Buffer.from(d.buf.subarray(0, 64));
          d.buf = d.buf.subarray(64);
          const seq = readU32(m, 0);
          if (readU32(m, 4) !== 0) out.push(m);
          else if (seq === 100) continue;
          else if (seq === 200) out.push(m, m);
          else if (seq === 300) d.held = m;
          else if (seq === 301) out.push(m, d.held!);
          else if (seq === 400) {
            m[40] ^= 0x55;
            out.push(m);
          } else out.push(m);
        }
        if (out.length) s.write(Buffer.concat(out));
      },
    },
  });
}

describe("bench integrity counts", () => {
  const srv = faultyEcho();
  afterAll(() => srv.stop(true));

  test("lost, corrupt, duplicated and reordered counted separately; exit 1", async () => {
    const file = join(mkdtempSync(join(tmpdir(), "vlsbench-integrity-")), "r.json");
    const r = await runCli(BENCH, ["--target", `127.0.0.1:${srv.port}`, "--connections", "2", "--workers", "1", "--pipeline", "4", "--count", "2000", "--warmup", "0s", "--size", "64", "--json", file]);
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/integrity lost=1 corrupt=1 duplicated=1 reordered=1/);
    const j = JSON.parse(readFileSync(file, "utf8"));
    expect(j.integrity).toEqual({ lost: 1, corrupt: 1, duplicated: 1, reordered: 1 });
    expect(j.errors).toEqual({ connect: 0, read: 0, write: 0, verify: 4, timeout: 0 });
    expect(j.messages).toBe(2000 - 3);
  });
});
