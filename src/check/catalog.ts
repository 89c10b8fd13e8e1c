/** Every probe `bun run check` knows, in the order it reports them: the design's behaviours first, then the known hazards. */
import type { Probe } from "./probe.ts";
import { crossClone } from "./probes/cross-clone.ts";
import { foreignConnected, foreignConnectedClose } from "./probes/foreign-connected.ts";
import { foreignCloseWindow } from "./probes/foreign-close-window.ts";
import { rpcTimeout } from "./probes/rpc-timeout.ts";
import { epollCtlBadHandlesSingle, epollCtlBadHandlesThread } from "./probes/epoll-ctl-bad-handles.ts";
import { epollSelfAdd } from "./probes/epoll-self-add.ts";
import { poolLockStarvation } from "./probes/pool-lock-starvation.ts";
import { closeTwoThreads } from "./probes/close-two-threads.ts";
import { sigchldProcess } from "./probes/sigchld-process.ts";

const ALL: Probe[] = [
  crossClone,
  foreignConnected,
  foreignConnectedClose,
  foreignCloseWindow,
  rpcTimeout,
  epollCtlBadHandlesSingle,
  epollCtlBadHandlesThread,
  epollSelfAdd,
  poolLockStarvation,
  closeTwoThreads,
  sigchldProcess,
];

export const CATALOG: readonly Probe[] = [...ALL.filter((p) => p.kind === "design"), ...ALL.filter((p) => p.kind === "hazard")];
