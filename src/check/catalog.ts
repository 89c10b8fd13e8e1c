/** Every probe `bun run check` knows, in the order it reports them: the design's behaviours first, then the known hazards. */
import type { Probe } from "./probe.ts";
import { crossClone } from "./probes/cross-clone.ts";
import { echoIntegritySingle, echoIntegrityThread, echoIntegrityProcess, echoSingleNoWorkarounds } from "./probes/echo-integrity.ts";
import { migrateClosed } from "./probes/migrate-closed.ts";
import { migrateEpoll } from "./probes/migrate-epoll.ts";
import { processListeners, processListenersVpp } from "./probes/process-listeners.ts";
import { childKilled, childKilledVpp } from "./probes/child-killed.ts";
import { shutdown } from "./probes/shutdown.ts";
import { processAcceptEvents } from "./probes/process-accept-events.ts";
import { foreignConnected, foreignConnectedClose } from "./probes/foreign-connected.ts";
import { foreignCloseWindow } from "./probes/foreign-close-window.ts";
import { rpcTimeout } from "./probes/rpc-timeout.ts";
import { epollCtlBadHandlesSingle, epollCtlBadHandlesThread } from "./probes/epoll-ctl-bad-handles.ts";
import { epollSelfAdd } from "./probes/epoll-self-add.ts";
import { poolLockStarvation } from "./probes/pool-lock-starvation.ts";
import { closeTwoThreads } from "./probes/close-two-threads.ts";
import { sigchldProcess } from "./probes/sigchld-process.ts";

const ALL: Probe[] = [
  echoIntegritySingle,
  echoIntegrityThread,
  echoIntegrityProcess,
  migrateClosed,
  migrateEpoll,
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
  processListeners,
  processListenersVpp,
  childKilled,
  childKilledVpp,
  shutdown,
  sigchldProcess,
  processAcceptEvents,
  echoSingleNoWorkarounds,
];

export const CATALOG: readonly Probe[] = [...ALL.filter((p) => p.kind === "design"), ...ALL.filter((p) => p.kind === "hazard")];
