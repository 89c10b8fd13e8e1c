/**
 * A server worker: one Bun Worker thread calling the VLS ABI. In single
 * mode it shares the process's VCL worker; worker 0 polls the listener,
 * and whichever worker gets its event accepts.
 * In thread mode it is its own VCL worker, and the epoll set and listener
 * session the main thread created for it migrate here on first use
 * (clone-and-share RPC served by the main thread).
 */
import { workerData, parentPort } from "node:worker_threads";
import { raw, check } from "../native/ffi.ts";
import { encodeEndpoint, Attr, EPOLLIN, EPOLL_CTL_ADD } from "../native/vls.ts";
import { EchoLoop, LISTENER_TAG, type EchoLoopSetup } from "./echo-loop.ts";
import { VppSingleEchoLoop } from "./vpp-single.ts";
import { Control, type EchoWorkerInit, type EchoCounters, type FromEchoWorker } from "./protocol.ts";

const init = workerData as EchoWorkerInit;
const control = new Int32Array(init.control);
const post = (m: FromEchoWorker) => parentPort!.postMessage(m);

const counters: EchoCounters = {
  id: init.id, vclWorker: -1, accepted: 0, adopted: 0, refused: 0, messages: 0, bytesIn: 0, bytesOut: 0, errors: 0, resets: 0, closed: 0, ffiCalls: 0, sweepFound: 0,
};

try {
  counters.vclWorker = check("vlsb_worker_register", raw.vlsb_worker_register());
  const ep = init.mode === "thread" ? init.epolls[0] : init.epolls[init.id];
  if (init.mode === "thread") {
    // bind does not migrate in VLS (a session of another worker is EBADFD),
    // so migrate the CLOSED listener first with a call that does.
    check("vlsb_attr", raw.vlsb_attr(init.listener, Attr.GET_FLAGS, 0, null));
    if (!init.bound) check("vlsb_bind", raw.vlsb_bind(init.listener, encodeEndpoint({ host: init.bindHost, port: init.bindPort })));
    check("vlsb_listen", raw.vlsb_listen(init.listener, 1024));
  }
  if (init.pollsListener) check("vlsb_epoll_ctl", raw.vlsb_epoll_ctl(ep, EPOLL_CTL_ADD, init.listener, EPOLLIN, LISTENER_TAG));
  Atomics.add(control, Control.READY, 1);
  post({ type: "ready", id: init.id, vclWorker: counters.vclWorker });
  const targets = init.mode === "thread" ? [ep] : init.epolls;
  const setup: EchoLoopSetup = { id: init.id, ep, listener: init.listener, targets, control, claims: new Int32Array(init.claims), maxConnections: init.maxConnections, acceptFromBacklogOnly: init.acceptFromBacklogOnly };
  (init.sharedEventQueue ? new VppSingleEchoLoop(setup, counters) : new EchoLoop(setup, counters)).run();
  if (init.mode === "thread") {
    raw.vlsb_close(ep);
    raw.vlsb_close(init.listener);
  }
  post({ type: "stopped", counters });
} catch (e) {
  Atomics.add(control, Control.FAILED, 1);
  post({ type: "error", id: init.id, message: (e as Error).message });
}
