/**
 * Hazard (process mode), on either backend: a SIGCHLD raised on the main
 * thread of a parent that forked WORKERS VLS echo workers, with no SIGCHLD
 * handler of its own installed before the fork and no child dead. The
 * design: harmless, the workers still serve and are reaped at the end. (On
 * VPP 24.06 VLS's SIGCHLD intercept, armed again at each fork, records
 * itself as the handler to chain to, and recurses; a real handler installed
 * before the fork, HANDLER "js", is recorded instead, and nothing recurses.)
 *
 * Echoes: on kernel, verified echoes over kernel sockets; on VPP, from
 * another VCL app (vlsbench's load generator).
 *
 *   bun sigchld-process.ts BACKEND process [WORKERS [HANDLER]]
 *     HANDLER  "none" (default): SIGCHLD left as it was; "js":
 *              process.on("SIGCHLD") before the fork (its runs are counted)
 */
import { dlopen } from "bun:ffi";
import { scenario, stage, raw, nowMs, counters, echoVerified, procState, stopChildren } from "./lib.ts";
import { processModeParent, clientEcho } from "./app.ts";
import { forkEchoWorkers } from "../../native/ffi.ts";
import type { BackendName } from "../../native/vls.ts";

const SIGCHLD = 17;
const ECHOES = 8;
const libc = dlopen("libc.so.6", { raise: { args: ["i32"], returns: "i32" } });

scenario(async ({ backend, mode, extra }) => {
  if (mode !== "process") throw new Error("process mode only");
  const workers = Number(extra[0] ?? 2);
  const handler = extra[1] ?? "none";
  let jsSigchld = 0;
  if (handler === "js") process.on("SIGCHLD", () => void jsSigchld++);
  const { l, port, pep, evs } = await processModeParent(backend as BackendName);
  const parentWrk = raw.vlsb_worker_index();
  stage(`fork ${workers} echo workers (SIGCHLD handler before the fork: ${handler})`);
  const pids = forkEchoWorkers(l, workers);
  if (backend === "kernel") {
    // The children listen once started; the parent polls meanwhile.
    const t0 = nowMs();
    while (counters().workers.filter((w) => w.index !== parentWrk && pids.includes(w.pid) && w.listenerStarts > 0).length < workers) {
      if (nowMs() - t0 > 5000) throw new Error("the workers did not start within 5 s");
      raw.vlsb_epoll_wait(pep, evs, 16, 0);
      await Bun.sleep(5);
    }
  }
  stage("raise SIGCHLD on the main thread");
  const raiseRv = libc.symbols.raise(SIGCHLD);
  await Bun.sleep(20); // a JS handler runs from the event loop
  const jsHandlerRan = jsSigchld;
  stage(`${ECHOES} verified echoes`);
  let served: { ok: boolean; messages: number; firstError: string | null };
  if (backend === "kernel") {
    const oks = (await Promise.all(Array.from({ length: ECHOES }, () => echoVerified(port, 4096)))).filter(Boolean).length;
    served = { ok: oks === ECHOES, messages: oks, firstError: oks === ECHOES ? null : `${ECHOES - oks} echoes failed` };
  } else {
    const r = await clientEcho(port, ECHOES, ECHOES, 4096);
    served = { ok: r.ok, messages: r.messages, firstError: r.firstError };
  }
  stage("stop the workers");
  const reaped = await stopChildren(pids, pep, evs);
  // Reaped by now, by the call above or by VLS's own child cleanup.
  const gone = pids.filter((p) => procState(p) === "gone").length;
  raw.vlsb_close(pep);
  raw.vlsb_close(l);
  return { workers: pids.length, raiseRv, jsHandlerRan, served, reaped, gone };
});
