/**
 * A load-generator worker (Bun Worker): opens its connections, reports
 * "connected", waits for the common start time, runs the closed loop and
 * sends its result once (histogram compressed).
 */
import { workerData, parentPort } from "node:worker_threads";
import { raw } from "../native/ffi.ts";
import { openConnections, runClosedLoop } from "./closed-loop.ts";
import type { LoadWorkerInit, FromLoadWorker } from "./protocol.ts";

const init = workerData as LoadWorkerInit;
const post = (m: FromLoadWorker | { type: "connected"; id: number }) => parentPort!.postMessage(m);

try {
  raw.vlsb_worker_register();
  const opened = openConnections(init);
  post({ type: "connected", id: init.id });
  const startNs = await new Promise<number>((resolve) => parentPort!.once("message", (m: { startNs: number }) => resolve(m.startNs)));
  const result = runClosedLoop({ ...init, startNs }, opened);
  post({ type: "result", result });
} catch (e) {
  post({ type: "error", id: init.id, message: (e as Error).message });
}
