/**
 * The load loop's modes on their own (src/loadgen/loop-modes.ts): when a
 * message may go, how --count is shared out, when a run is done.
 */
import { describe, expect, test } from "bun:test";
import { ClosedMode, CountMode } from "../src/loadgen/loop-modes.ts";
import { LoadConnection } from "../src/loadgen/load-connection.ts";
import type { ModeLoop } from "../src/loadgen/loop-modes.ts";
import type { LoadWorkerInit } from "../src/loadgen/protocol.ts";
import { raw } from "../src/native/ffi.ts";

const initOf = (o: Partial<LoadWorkerInit>): LoadWorkerInit => ({
  id: 0, host: "127.0.0.1", port: 1, connections: 3, connBase: 0, totalConnections: 3, sizeLo: 64, sizeHi: 64, rate: 0, pipeline: 1, g0: 0, g1: 0,
  count: 0, warmupSec: 0, durationSec: 10, timeoutSec: 5, connectTimeoutSec: 3, startNs: raw.vlsb_now_ns(), ...o,
});

function fakeLoop(conns: LoadConnection[]): ModeLoop & { sent: number } {
  return { conns, state: new Uint8Array(conns.length).fill(1), queued: 0, sent: 0, sendAll() { this.sent++; }, onDue() {} };
}

describe("loop modes", () => {
  test("closed loop: nothing goes before the start; after it, selected messages are queued and measured", () => {
    const mode = new ClosedMode(initOf({ startNs: raw.vlsb_now_ns() + 60e9 }));
    const conn = new LoadConnection(0, 0, -1, 1);
    const loop = fakeLoop([conn]);
    expect(mode.select(conn, loop)).toBe(-1);
    mode.advance(raw.vlsb_now_ns(), loop);
    expect(loop.sent).toBe(0);
    const started = new ClosedMode(initOf({}));
    started.advance(raw.vlsb_now_ns(), loop);
    expect(loop.sent).toBe(1);
    expect(started.select(conn, loop)).toBeGreaterThan(0);
    expect(conn.measured).toBe(true);
    expect(loop.queued).toBe(1);
    expect(started.done()).toBe(false);
  });

  test("count mode: the count is shared out to the connections (across workers), and the run is done once every share was selected", () => {
    // 10 messages over 3 connections of this worker and 1 of another: 3 3 2 | 2.
    const init = initOf({ count: 10, totalConnections: 4, connections: 3 });
    const mode = new CountMode(init);
    const conns = [0, 1, 2].map((c) => new LoadConnection(c, c, -1, 1));
    for (const c of conns) mode.assign(c, true);
    expect(conns.map((c) => c.quota)).toEqual([3, 3, 2]);
    const loop = fakeLoop(conns);
    mode.advance(raw.vlsb_now_ns(), loop);
    let selected = 0;
    for (const c of conns) while (mode.select(c, loop) >= 0) selected++;
    expect(selected).toBe(8);
    expect(mode.done()).toBe(true);
  });

  test("count mode: a connection that dies before its share is selected does not keep the run waiting", () => {
    const mode = new CountMode(initOf({ count: 4, totalConnections: 2, connections: 2 }));
    const conns = [0, 1].map((c) => new LoadConnection(c, c, -1, 1));
    for (const c of conns) mode.assign(c, true);
    const loop = fakeLoop(conns);
    mode.advance(raw.vlsb_now_ns(), loop);
    while (mode.select(conns[0], loop) >= 0);
    expect(mode.done()).toBe(false);
    mode.onKill(conns[1]);
    expect(mode.done()).toBe(true);
  });
});
