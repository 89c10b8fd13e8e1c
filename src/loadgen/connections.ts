/**
 * A load worker's connections: created non-blocking (TCP_NODELAY), connects
 * started, registered in the worker's epoll set; the loop completes them.
 */
import { raw } from "../native/ffi.ts";
import { Errno, errnoName } from "../native/errno.ts";
import { encodeEndpoint, Attr, EPOLLIN, EPOLLOUT, EPOLL_CTL_ADD, PROTO_TCP } from "../native/vls.ts";
import { noErrors, type ErrorCounts, type LoadWorkerInit } from "./protocol.ts";

/** Connection state: connect in progress. */
export const CONNECTING = 0;
/** Connection state: connected, in use. */
export const ACTIVE = 1;
/** Connection state: closed after an error (or never opened). */
export const DEAD = 2;

/** Connections opened, waiting for the start signal. */
export interface OpenedConnections {
  ep: number;
  handles: number[];
  state: Uint8Array;
  connectStartNs: Float64Array;
  errors: ErrorCounts;
  firstError: string | null;
}

/** Opens the connections (non-blocking connects) of one worker. */
export function openConnections(init: LoadWorkerInit): OpenedConnections {
  const ep = raw.vlsb_epoll_create();
  if (ep < 0) throw new Error(`vlsb_epoll_create: ${errnoName(-ep)}`);
  const epBuf = encodeEndpoint({ host: init.host, port: init.port });
  const o: OpenedConnections = {
    ep, handles: [], state: new Uint8Array(init.connections), connectStartNs: new Float64Array(init.connections), errors: noErrors(), firstError: null,
  };
  for (let c = 0; c < init.connections; c++) {
    const h = raw.vlsb_create(PROTO_TCP, 1);
    o.handles.push(h);
    o.connectStartNs[c] = raw.vlsb_now_ns();
    if (h >= 0) raw.vlsb_attr(h, Attr.SET_TCP_NODELAY, 1, null);
    const rv = h < 0 ? h : raw.vlsb_connect(h, epBuf);
    if ((rv !== 0 && rv !== -Errno.EINPROGRESS) || raw.vlsb_epoll_ctl(ep, EPOLL_CTL_ADD, h, EPOLLOUT | EPOLLIN, c) < 0) {
      o.errors.connect++;
      o.firstError ??= `connect: ${errnoName(-rv)}`;
      if (h >= 0) raw.vlsb_close(h);
      o.state[c] = DEAD;
    }
  }
  return o;
}
