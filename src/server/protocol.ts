/** Typed messages between the server's main thread and its echo workers. */

/** Slots of the server's shared control words (an Int32Array on a
 * SharedArrayBuffer every echo worker gets as `control`). */
export const Control = {
  /** 1: every worker leaves its loop. */
  STOP: 0,
  /** Workers that started their loop. */
  READY: 1,
  /** Workers that failed to start. */
  FAILED: 2,
  /** Live connections of the whole server (for --max-connections). */
  CONNECTIONS: 3,
  /** VPP single mode: the accept lock (vpp-single.ts). */
  ACCEPT_LOCK: 4,
  /** VPP single mode: the epoll_wait turn (vpp-single.ts). */
  WAIT_LOCK: 5,
} as const;
/** Bytes of the control buffer (8 slots). */
export const CONTROL_BYTES = 32;

/** What a Bun echo worker is started with (workerData). */
export interface EchoWorkerInit {
  id: number;
  backend: "kernel" | "vpp";
  mode: "single" | "thread";
  /** The listener this worker accepts on (single mode: the shared one;
   * thread mode: the worker's own). */
  listener: number;
  /** Whether this worker puts the listener in its epoll set (single mode:
   * worker 0 only, as a VCL session is in one set; thread mode: all). */
  pollsListener: boolean;
  /** Epoll sets created by the main thread. Single mode: one per worker,
   * index = worker id, accepted sessions are spread over them. Thread mode:
   * [this worker's set], which migrates here on first use. */
  epolls: number[];
  /** Thread mode: the worker binds and listens on this endpoint itself. */
  bindHost: string;
  bindPort: number;
  /** Thread mode: the listener is already bound (bind would fail). */
  bound: boolean;
  /** Int32Array on a SharedArrayBuffer, slots named by `Control`. */
  control: SharedArrayBuffer;
  /** Accept only while the listener reports a backlog, one worker at a
   * time, and wait for events one worker at a time (VPP single mode with
   * several workers with the workarounds on; see vpp-single.ts). */
  acceptFromBacklogOnly: boolean;
  /** VPP single mode with several workers: an event of any session may
   * reach any worker, so sessions are served under claims (vpp-single.ts). */
  sharedEventQueue: boolean;
  /** Int32Array on a SharedArrayBuffer shared by every worker: per session
   * (by handle, hashed), the id + 1 of the worker serving it now, or 0. */
  claims: SharedArrayBuffer;
  maxConnections: number;
}

/** Per-worker counters kept by the JS echo loop. */
export interface EchoCounters {
  id: number;
  vclWorker: number;
  accepted: number;
  /** Sessions this worker served (in single mode worker 0 accepts for all). */
  adopted: number;
  refused: number;
  messages: number;
  bytesIn: number;
  bytesOut: number;
  errors: number;
  resets: number;
  closed: number;
  /** FFI calls made by this worker's echo loop. */
  ffiCalls: number;
  /** VPP single mode with several workers: times the lost-event sweep found
   * unread data on a session no worker was serving (see vpp-single.ts). */
  sweepFound: number;
}

export type FromEchoWorker =
  | { type: "ready"; id: number; vclWorker: number }
  | { type: "stopped"; counters: EchoCounters }
  | { type: "error"; id: number; message: string };
