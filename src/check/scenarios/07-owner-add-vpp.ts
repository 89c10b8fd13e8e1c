/**
 * Behaviour 7, owner-add, on VPP: 2 forked children start listening, which
 * stops the parent's listening (the owner had not accepted). The parent,
 * before it polls, adds the listener to its own epoll set: VPP's VLS starts
 * its listening again. Once the children are gone, connections from another
 * VCL app must show up as events in the parent's set, and be accepted.
 *
 *   bun 07-owner-add-vpp.ts vpp process
 */
import { scenario, stage, raw, acceptAndCloseUntil, stopChildren } from "./lib.ts";
import { processModeParent, clientEcho } from "./app.ts";
import { forkEchoWorkers } from "../../native/ffi.ts";
import { EPOLLIN, EPOLL_CTL_ADD, type BackendName } from "../../native/vls.ts";

const LISTENER_TAG = 0xfffffff0;


scenario(async ({ backend, mode }) => {
  if (backend !== "vpp" || mode !== "process") throw new Error("this is the vpp process-mode variant");
  // A real SIGCHLD handler before the first fork (Bun installs one for
  // process.on). VPP 24.06's VLS, finding only the default disposition,
  // records its own handler as the one to chain to from the second fork on,
  // and the parent then dies at the first SIGCHLD (a VCL client exiting);
  // conformance 01 pins that. With a handler here, VLS records it instead,
  // on every VPP version.
  process.on("SIGCHLD", () => {});
  const { l, port, pep, evs } = await processModeParent(backend as BackendName);
  stage("fork 2 echo children (the parent does not poll)");
  const pids = forkEchoWorkers(l, 2);
  // The children listen once they served: 8 verified echoes.
  const served = await clientEcho(port, 8, 8, 4096);
  stage("parent: ADD the listener, then poll");
  const add = raw.vlsb_epoll_ctl(pep, EPOLL_CTL_ADD, l, EPOLLIN, LISTENER_TAG);
  raw.vlsb_epoll_wait(pep, evs, 16, 0);
  const reaped = await stopChildren(pids, pep, evs);
  stage("connections to the parent alone");
  // The client's connects complete only once the parent accepts, so the
  // parent polls and accepts while the client runs (its echoes then fail:
  // the parent closes what it accepts; only the events and accepts count).
  const client = clientEcho(port, 3, 3, 64, 20_000, 2);
  let clientDone = false;
  void client.then(() => (clientDone = true));
  const { events, accepted } = await acceptAndCloseUntil(pep, evs, l, LISTENER_TAG, () => clientDone, 15_000);
  await client;
  raw.vlsb_close(pep);
  raw.vlsb_close(l);
  return { served: served.ok, add, reaped, events, accepted };
});
