/**
 * A typed facade over the ABI for everything that is not a hot path:
 * app init, session setup, endpoints. Throws VlsError on failure.
 */
import { raw, check } from "./ffi.ts";

export * from "./abi-constants.ts";

/** Backend ids, as in native/include/vlsb.h. */
export const Backend = { kernel: 0, vpp: 1 } as const;
export type BackendName = keyof typeof Backend;
/** VLS mode ids, as in native/include/vlsb.h. */
export const Mode = { single: 0, thread: 1, process: 2 } as const;
export type ModeName = keyof typeof Mode;

export const Attr = {
  GET_NREAD: 0, GET_FLAGS: 2, SET_FLAGS: 3, GET_LCL_ADDR: 4, GET_PEER_ADDR: 6,
  SET_REUSEPORT: 19, SET_TCP_NODELAY: 27,
} as const;

/** Size of the ABI's endpoint encoding. */
export const EP_SIZE = 20;

/** An IPv4 or IPv6 endpoint. */
export interface Endpoint {
  host: string;
  port: number;
}

/** Encodes an endpoint into a fresh ArrayBuffer-backed buffer. */
export function encodeEndpoint(ep: Endpoint): Uint8Array {
  const out = new Uint8Array(new ArrayBuffer(EP_SIZE));
  const dv = new DataView(out.buffer);
  if (!Number.isInteger(ep.port) || ep.port < 0 || ep.port > 65535) throw new RangeError(`bad port ${ep.port}`);
  dv.setUint16(2, ep.port, true);
  const v4 = ep.host.match(/^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/);
  if (v4) {
    out[0] = 4;
    for (let i = 0; i < 4; i++) {
      const b = Number(v4[i + 1]);
      if (b > 255) throw new RangeError(`bad IPv4 address ${ep.host}`);
      out[4 + i] = b;
    }
    return out;
  }
  if (ep.host.includes(":")) {
    out[0] = 6;
    const words = expandV6(ep.host);
    for (let i = 0; i < 8; i++) dv.setUint16(4 + 2 * i, words[i], false);
    return out;
  }
  throw new RangeError(`not an IP address: ${ep.host} (names are not resolved)`);
}

function expandV6(s: string): number[] {
  const [head, tail] = s.split("::");
  const parse = (p: string | undefined) => (p ? p.split(":").map((x) => parseInt(x, 16)) : []);
  const h = parse(head);
  const t = tail === undefined ? [] : parse(tail);
  const fill = tail === undefined ? [] : new Array(8 - h.length - t.length).fill(0);
  const words = [...h, ...fill, ...t];
  if (words.length !== 8 || words.some((w) => !(w >= 0 && w <= 0xffff))) throw new RangeError(`bad IPv6 address ${s}`);
  return words;
}

/** Decodes an endpoint buffer written by the native core. */
export function decodeEndpoint(b: Uint8Array): Endpoint {
  const dv = new DataView(b.buffer, b.byteOffset, EP_SIZE);
  const port = dv.getUint16(2, true);
  if (b[0] === 4) return { host: `${b[4]}.${b[5]}.${b[6]}.${b[7]}`, port };
  const words: string[] = [];
  for (let i = 0; i < 8; i++) words.push(dv.getUint16(4 + 2 * i, false).toString(16));
  return { host: words.join(":"), port };
}

/** Initialises the app once per process (see vlsb_app_init). */
export function appInit(backend: BackendName, mode: ModeName, options = ""): void {
  check("vlsb_app_init", raw.vlsb_app_init(Backend[backend], Mode[mode], Buffer.from(options + "\0")));
}

/** Creates a TCP listener bound to ep; returns its handle. */
export function listenTcp(ep: Endpoint, opts: { nonblocking?: boolean; reuseport?: boolean; backlog?: number } = {}): number {
  const h = check("vlsb_create", raw.vlsb_create(0, opts.nonblocking === false ? 0 : 1));
  try {
    if (opts.reuseport) check("vlsb_attr", raw.vlsb_attr(h, Attr.SET_REUSEPORT, 1, null));
    check("vlsb_bind", raw.vlsb_bind(h, encodeEndpoint(ep)));
    check("vlsb_listen", raw.vlsb_listen(h, opts.backlog ?? 1024));
    return h;
  } catch (e) {
    raw.vlsb_close(h);
    throw e;
  }
}

/**
 * A TCP listener on ep; with port 0, a free port. The kernel backend asks
 * the kernel for one; VPP does not report the port it would pick, so on the
 * vpp backend a random port is tried until one is free.
 */
export function listenTcpAnyPort(ep: Endpoint, backend: BackendName, opts: { nonblocking?: boolean; reuseport?: boolean } = {}): { handle: number; port: number } {
  if (ep.port !== 0 || backend === "kernel") {
    const handle = listenTcp(ep, opts);
    return { handle, port: ep.port || localEndpoint(handle).port };
  }
  for (let i = 0; ; i++) {
    const port = 20000 + Math.floor(Math.random() * 40000);
    try {
      return { handle: listenTcp({ ...ep, port }, opts), port };
    } catch (e) {
      if (i >= 50) throw e;
    }
  }
}

/** The local endpoint of a session (the real port after binding port 0). */
export function localEndpoint(h: number): Endpoint {
  const b = new Uint8Array(new ArrayBuffer(EP_SIZE));
  check("vlsb_attr", raw.vlsb_attr(h, Attr.GET_LCL_ADDR, 0, b));
  return decodeEndpoint(b);
}
