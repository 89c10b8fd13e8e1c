// Every exported ABI function called through the FFI module: results,
// error codes for bad input, no crash.
import { describe, test, expect, beforeAll, afterAll } from "bun:test";
import { raw, check, VlsError, countersSnapshot, drainRpcLatencies, strerror } from "../src/native/ffi.ts";
import { Errno } from "../src/native/errno.ts";
import { appInit, listenTcp, localEndpoint, encodeEndpoint, decodeEndpoint, Attr, EP_SIZE, EPOLLIN, EPOLL_CTL_ADD, EPOLL_CTL_DEL, O_NONBLOCK } from "../src/native/vls.ts";

const EBADFD = -Errno.EBADFD;

describe("ABI before app init", () => {
  test("calls return -ENOTCONN", () => {
    raw.vlsb_app_fini();
    expect(raw.vlsb_create(0, 1)).toBe(-Errno.ENOTCONN);
    expect(raw.vlsb_epoll_create()).toBe(-Errno.ENOTCONN);
    expect(raw.vlsb_app_mode()).toBe(-Errno.ENOTCONN);
  });
  test("bad backend or mode is -EINVAL", () => {
    expect(raw.vlsb_app_init(7, 0, null)).toBe(-Errno.EINVAL);
    expect(raw.vlsb_app_init(0, 9, null)).toBe(-Errno.EINVAL);
  });
});

describe("ABI on the kernel backend", () => {
  beforeAll(() => appInit("kernel", "single"));
  afterAll(() => raw.vlsb_app_fini());

  test("app init is idempotent, a different mode is refused", () => {
    expect(raw.vlsb_app_init(0, 0, Buffer.from("\0"))).toBe(0);
    expect(raw.vlsb_app_init(0, 1, Buffer.from("\0"))).toBe(-Errno.EALREADY);
    expect(raw.vlsb_app_backend()).toBe(0);
    expect(raw.vlsb_app_mode()).toBe(0);
  });

  test("create, bind, listen, connect, accept, write, read, shutdown, close", () => {
    const l = listenTcp({ host: "127.0.0.1", port: 0 });
    const { port } = localEndpoint(l);
    expect(port).toBeGreaterThan(0);
    const c = check("create", raw.vlsb_create(0, 0)); // blocking client
    expect(raw.vlsb_connect(c, encodeEndpoint({ host: "127.0.0.1", port }))).toBe(0);
    const peer = new Uint8Array(new ArrayBuffer(EP_SIZE));
    let s = -1;
    for (let i = 0; i < 1000 && s < 0; i++) s = raw.vlsb_accept(l, peer, O_NONBLOCK);
    expect(s).toBeGreaterThanOrEqual(0);
    expect(decodeEndpoint(peer).host).toBe("127.0.0.1");
    const msg = new Uint8Array(new ArrayBuffer(5));
    msg.set([104, 101, 108, 108, 111]);
    expect(raw.vlsb_write(c, msg, 5)).toBe(5);
    const buf = new Uint8Array(new ArrayBuffer(16));
    let n = -Errno.EAGAIN;
    for (let i = 0; i < 1000 && n === -Errno.EAGAIN; i++) n = raw.vlsb_read(s, buf, 16);
    expect(n).toBe(5);
    expect([...buf.subarray(0, 5)]).toEqual([...msg]);
    expect(raw.vlsb_attr(s, Attr.GET_FLAGS, 0, null)).toBe(O_NONBLOCK);
    expect(raw.vlsb_attr(s, Attr.GET_NREAD, 0, null)).toBe(0);
    expect(raw.vlsb_attr(s, Attr.SET_TCP_NODELAY, 1, null)).toBe(0);
    expect(raw.vlsb_attr(s, 999, 0, null)).toBe(-Errno.EINVAL);
    expect(raw.vlsb_shutdown(s, 1)).toBe(0);
    expect(raw.vlsb_read(c, buf, 16)).toBe(0); // the server side's FIN
    for (const h of [c, s, l]) expect(raw.vlsb_close(h)).toBe(0);
  });

  test("epoll create, ctl, wait", () => {
    const ep = check("epoll_create", raw.vlsb_epoll_create());
    const l = listenTcp({ host: "127.0.0.1", port: 0 });
    expect(raw.vlsb_epoll_ctl(ep, EPOLL_CTL_ADD, l, EPOLLIN, 42)).toBe(0);
    expect(raw.vlsb_epoll_ctl(ep, EPOLL_CTL_ADD, l, EPOLLIN, 42)).toBe(-Errno.EEXIST);
    const evs = new Uint32Array(new ArrayBuffer(64));
    expect(raw.vlsb_epoll_wait(ep, evs, 8, 0)).toBe(0);
    const c = raw.vlsb_create(0, 0);
    expect(raw.vlsb_connect(c, encodeEndpoint(localEndpoint(l)))).toBe(0);
    const n = raw.vlsb_epoll_wait(ep, evs, 8, 1000);
    expect(n).toBe(1);
    expect(evs[0] & EPOLLIN).toBe(EPOLLIN);
    expect(evs[1]).toBe(42);
    expect(raw.vlsb_epoll_wait(ep, evs, 0, 0)).toBe(-Errno.EINVAL);
    expect(raw.vlsb_epoll_ctl(ep, EPOLL_CTL_DEL, l, 0, 0)).toBe(0);
    expect(raw.vlsb_epoll_ctl(ep, EPOLL_CTL_DEL, l, 0, 0)).toBe(-Errno.ENOENT);
    for (const h of [c, l, ep]) expect(raw.vlsb_close(h)).toBe(0);
  });

  test("bad, stale and closed handles give -EBADFD, never a crash", () => {
    const buf = new Uint8Array(new ArrayBuffer(8));
    for (const h of [-1, 123456, 0x7fffffff]) {
      expect(raw.vlsb_read(h, buf, 8)).toBe(EBADFD);
      expect(raw.vlsb_write(h, buf, 8)).toBe(EBADFD);
      expect(raw.vlsb_close(h)).toBe(EBADFD);
      expect(raw.vlsb_listen(h, 1)).toBe(EBADFD);
      expect(raw.vlsb_accept(h, null, 0)).toBe(EBADFD);
      expect(raw.vlsb_shutdown(h, 2)).toBe(EBADFD);
      expect(raw.vlsb_attr(h, Attr.GET_FLAGS, 0, null)).toBe(EBADFD);
      expect(raw.vlsb_epoll_wait(h, new Uint32Array(new ArrayBuffer(16)), 2, 0)).toBe(EBADFD);
    }
    const s = check("create", raw.vlsb_create(0, 1));
    expect(raw.vlsb_close(s)).toBe(0);
    expect(raw.vlsb_close(s)).toBe(EBADFD); // double close
    expect(raw.vlsb_read(s, buf, 8)).toBe(EBADFD); // read on a closed session
    const reused = check("create", raw.vlsb_create(0, 1)); // takes the freed slot
    expect(reused).not.toBe(s); // the generation differs: the stale handle stays dead
    expect(raw.vlsb_read(s, buf, 8)).toBe(EBADFD);
    expect(raw.vlsb_close(reused)).toBe(0);
  });

  test("argument errors", () => {
    const s = check("create", raw.vlsb_create(0, 1));
    expect(raw.vlsb_create(9, 1)).toBe(-Errno.EPROTONOSUPPORT);
    expect(raw.vlsb_bind(s, null)).toBe(-Errno.EINVAL);
    const bad = new Uint8Array(new ArrayBuffer(EP_SIZE));
    bad[0] = 9;
    expect(raw.vlsb_bind(s, bad)).toBe(-Errno.EAFNOSUPPORT);
    expect(raw.vlsb_read(s, null, 8)).toBe(-Errno.EINVAL);
    expect(raw.vlsb_read(s, new Uint8Array(new ArrayBuffer(8)), 8)).toBe(-Errno.ENOTCONN);
    expect(raw.vlsb_listen(s, 1)).toBe(-Errno.EINVAL); // not bound
    expect(raw.vlsb_shutdown(s, 7)).toBe(-Errno.EINVAL);
    expect(raw.vlsb_close(s)).toBe(0);
  });

  test("errors become typed VlsErrors", () => {
    let err: unknown;
    try {
      check("vlsb_close", raw.vlsb_close(-5));
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(VlsError);
    expect((err as VlsError).code).toBe("EBADFD");
    expect((err as VlsError).errno).toBe(77);
    expect((err as VlsError).message).toContain("vlsb_close: EBADFD");
    expect(strerror(77)).toBe("File descriptor in bad state");
  });

  test("worker register, index, counters, rpc latencies, clock", () => {
    expect(raw.vlsb_worker_register()).toBe(0);
    expect(raw.vlsb_worker_index()).toBe(0);
    const c = countersSnapshot() as { backend: number; mode: number; locks: Record<string, unknown>; workers: unknown[] };
    expect(c.backend).toBe(0);
    expect(c.mode).toBe(0);
    expect(Object.keys(c.locks)).toEqual(["pool", "session", "handle_map", "spool", "mq", "worker_rpc", "shared_data"]);
    expect(c.workers.length).toBeGreaterThanOrEqual(1);
    expect(drainRpcLatencies().length).toBe(0);
    const t0 = raw.vlsb_now_ns();
    const t1 = raw.vlsb_now_ns();
    expect(t1).toBeGreaterThanOrEqual(t0);
    expect(raw.vlsb_counters_json(new Uint8Array(new ArrayBuffer(4)), 4)).toBe(-Errno.ENOSPC);
    expect(raw.vlsb_fork_echo_workers(0, 1, new Int32Array(new ArrayBuffer(4)))).toBe(-Errno.EINVAL); // not process mode
  });

  test("one thread takes no VLS lock at all", () => {
    const before = countersSnapshot() as { locks: Record<string, { acquired: number }> };
    const s = raw.vlsb_create(0, 1);
    raw.vlsb_attr(s, Attr.GET_FLAGS, 0, null);
    raw.vlsb_close(s);
    const after = countersSnapshot() as { locks: Record<string, { acquired: number }> };
    for (const k of Object.keys(after.locks)) expect(after.locks[k].acquired).toBe(before.locks[k].acquired);
  });
});
