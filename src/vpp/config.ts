/**
 * VPP and VCL configuration files, generated per run: VPP in the
 * foreground, no DPDK, 4 KiB pages, plugins off, the session layer on with
 * its app socket API (VPP 24.06 opens no app socket without
 * `use-app-socket-api`; later versions accept the word and open it anyway).
 */

/** startup.conf for a private instance rooted at `run` (its log in `run` unless `logFile` says where). */
export function startupConf(run: string, apiPrefix: string, opts: { pollSleepUs?: number; logFile?: string } = {}): string {
  const poll = opts.pollSleepUs ? ` poll-sleep-usec ${opts.pollSleepUs}` : "";
  return `unix { nodaemon nosyslog cli-listen ${run}/cli.sock runtime-dir ${run} log ${opts.logFile ?? `${run}/vpp.log`}${poll} }
api-segment { prefix ${apiPrefix} }
socksvr { socket-name ${run}/api.sock }
statseg { socket-name ${run}/stats.sock page-size 4k }
cpu { main-core 0 }
memory { main-heap-size 512M main-heap-page-size 4k }
buffers { buffers-per-numa 4096 page-size 4k }
plugins { plugin default { disable } }
session { enable use-app-socket-api }
`;
}

/** VCL options exposed to users, with their defaults. */
export interface VclOptions {
  rxFifo: number;
  txFifo: number;
  segmentSize: number;
  addSegmentSize: number;
  eventQueueSize: number;
}

/** Defaults that worked for the reference figures. */
export const VCL_DEFAULTS: VclOptions = { rxFifo: 65536, txFifo: 65536, segmentSize: 268435456, addSegmentSize: 134217728, eventQueueSize: 4096 };

/** Which app namespace an app attaches to. */
export interface VclAttach {
  appSocket: string;
  namespace?: { id: string; secret: string };
}

/** vcl.conf for one app in one VLS mode. */
export function vclConf(attach: VclAttach, mode: "single" | "thread" | "process", o: VclOptions = VCL_DEFAULTS): string {
  const ns = attach.namespace ? `  namespace-id ${attach.namespace.id}\n  namespace-secret ${attach.namespace.secret}\n` : "";
  const scope = attach.namespace ? "  app-scope-global\n" : "  app-scope-local\n  app-scope-global\n";
  return `vcl {
  app-socket-api ${attach.appSocket}
${ns}${scope}  use-mq-eventfd
  heapsize 64M
  rx-fifo-size ${o.rxFifo}
  tx-fifo-size ${o.txFifo}
  segment-size ${o.segmentSize}
  add-segment-size ${o.addSegmentSize}
  event-queue-size ${o.eventQueueSize}
${mode === "thread" ? "  multi-thread-workers\n" : ""}}
`;
}

/** vppctl commands building the two-namespace topology through VPP's TCP. */
export function stackTopologyCommands(secrets: [string, string]): string[][] {
  return [
    ["create", "loopback", "interface"],
    ["create", "loopback", "interface"],
    ["ip", "table", "add", "1"],
    ["ip", "table", "add", "2"],
    ["set", "interface", "ip", "table", "loop0", "1"],
    ["set", "interface", "ip", "table", "loop1", "2"],
    ["set", "interface", "state", "loop0", "up"],
    ["set", "interface", "state", "loop1", "up"],
    ["set", "interface", "ip", "address", "loop0", "172.16.1.1/24"],
    ["set", "interface", "ip", "address", "loop1", "172.16.2.1/24"],
    ["app", "ns", "add", "id", "1", "secret", secrets[0], "if", "loop0"],
    ["app", "ns", "add", "id", "2", "secret", secrets[1], "if", "loop1"],
    ["ip", "route", "add", "172.16.2.1/32", "table", "1", "via", "lookup", "in", "table", "2"],
    ["ip", "route", "add", "172.16.1.1/32", "table", "2", "via", "lookup", "in", "table", "1"],
  ];
}

/** Server-side address in the stack topology. */
export const STACK_SERVER_ADDR = "172.16.1.1";
