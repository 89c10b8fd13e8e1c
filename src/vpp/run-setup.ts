/**
 * VPP for a bench run: the bench process starts one VPP, the server child
 * attaches to it (--vpp-socket, --vpp-namespace), and the load generator
 * attaches as a VCL app of its own (per-thread workers), cut-through or
 * through VPP's TCP stack.
 */
import { findVpp, vppNotFoundReason } from "./find.ts";
import { startVpp, attachVpp, type Topology, type VppInstance } from "./instance.ts";
import { STACK_SERVER_ADDR, VCL_DEFAULTS, type VclOptions } from "./config.ts";

/** What the bench needs to run through VPP. */
export interface VppRun {
  vpp: VppInstance;
  /** Extra server arguments: attach to this VPP. */
  serverArgs: string[];
  /** Address the server listens on (and the load goes to). */
  serverHost: string;
  /** vlsb_app_init options of the load generator. */
  clientOptions: string;
  version: string;
}

/** Where a run's VPP comes from: started (in a topology) or attached to. */
export type VppSource = { topology: Topology } | { socket: string; namespace?: { id: string; secret: string } };

/**
 * Starts VPP for a run, or attaches to a running one (then the server child
 * and the load generator both attach to that app socket and namespace);
 * throws a one-line reason when VPP is not found.
 */
export async function prepareVppRun(source: VppSource, vcl: VclOptions = VCL_DEFAULTS): Promise<VppRun> {
  const install = findVpp();
  if (!install) throw new Error(vppNotFoundReason());
  const vpp = "socket" in source ? attachVpp(install, source.socket, source.namespace) : await startVpp(install, source.topology);
  const server = vpp.attach("server");
  const serverArgs = ["--vpp-socket", server.appSocket, ...(server.namespace ? ["--vpp-namespace", `${server.namespace.id}:${server.namespace.secret}`] : [])];
  const clientConf = vpp.writeVcl("client", "thread", vcl);
  const version = "socket" in source ? "attached" : ((await vpp.vppctl(["show", "version"])).out.trim().split("\n")[0] ?? "");
  return {
    vpp,
    serverArgs,
    serverHost: "topology" in source && source.topology === "stack" ? STACK_SERVER_ADDR : "127.0.0.1",
    clientOptions: `lib=${install.libvppcom};vcl_config=${clientConf};app_name=vlsbench-load-${process.pid}`,
    version,
  };
}
