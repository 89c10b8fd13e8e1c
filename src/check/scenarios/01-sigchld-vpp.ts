/**
 * Behaviour 1 on VPP, process mode: a SIGCHLD reaching a parent that forked
 * VLS workers. VLS takes over SIGCHLD in its fork handler (to learn which
 * child died) and calls the handler it replaced. In VPP 24.06 it takes over
 * again at every fork while the handler it replaced was the default one, so
 * from the second fork on it records itself as the handler to call: the
 * first SIGCHLD on a VCL thread then recurses until the stack runs out. A
 * real SIGCHLD handler installed before the first fork (Bun installs one for
 * process.on("SIGCHLD")) is recorded instead, and nothing recurses.
 *
 * The signal is raised on the main thread (the VCL worker that forked), so
 * it reaches VLS's handler every time; a child that exits sends the same
 * signal to the whole process, and the kernel almost always picks the main
 * thread for it.
 *
 *   bun 01-sigchld-vpp.ts vpp process WORKERS HANDLER
 *     WORKERS  forked native echo workers sharing the listener
 *     HANDLER  "js": process.on("SIGCHLD") before the fork; "none": default
 * Prints (if it survives) whether the JS handler ran, then 8 verified echoes
 * from another VCL app served by the children.
 */
import { dlopen } from "bun:ffi";
import { scenario, stage, raw, nowMs, alive } from "./lib.ts";
import { processModeParent, clientEcho } from "./app.ts";
import { forkEchoWorkers } from "../../native/ffi.ts";
import type { BackendName } from "../../native/vls.ts";

const SIGCHLD = 17;
const libc = dlopen("libc.so.6", { raise: { args: ["i32"], returns: "i32" } });

scenario(async ({ backend, mode, extra }) => {
  if (backend !== "vpp" || mode !== "process") throw new Error("this is a vpp process-mode scenario");
  const workers = Number(extra[0] ?? 2);
  const handler = extra[1] ?? "none";
  let jsSigchld = 0;
  if (handler === "js") process.on("SIGCHLD", () => void jsSigchld++);
  const { l, port, pep, evs } = await processModeParent(backend as BackendName);
  stage(`fork ${workers} echo workers (SIGCHLD handler before the fork: ${handler})`);
  const pids = forkEchoWorkers(l, workers);
  stage("raise SIGCHLD on the main thread");
  const raiseRv = libc.symbols.raise(SIGCHLD);
  await Bun.sleep(20); // a JS handler runs from the event loop
  const jsHandlerRan = jsSigchld;
  stage("8 verified echoes from another VCL app");
  const served = await clientEcho(port, 8, 8, 4096);
  stage("stop the workers");
  for (const pid of pids) process.kill(pid, "SIGTERM");
  const t0 = nowMs();
  while (pids.some(alive) && nowMs() - t0 < 5000) {
    raw.vlsb_epoll_wait(pep, evs, 16, 0);
    await Bun.sleep(5);
  }
  const reaped = raw.vlsb_reap_children();
  raw.vlsb_close(pep);
  raw.vlsb_close(l);
  return { workers: pids.length, raiseRv, jsHandlerRan, served: { ok: served.ok, messages: served.messages, firstError: served.firstError }, reaped };
});
