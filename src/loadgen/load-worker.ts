/**
 * A load-generator worker (Bun Worker): opens its connections, reports
 * "connected", waits for the common start time, runs the loop (posting one
 * tick per measured second) and sends its result once.
 */
import { workerData, parentPort } from "node:worker_threads";
import { raw } from "../native/ffi.ts";
import { errnoName } from "../native/errno.ts";
import { openConnections } from "./connections.ts";
import { runLoop } from "./load-loop.ts";
import type { LoadWorkerInit, FromLoadWorker } from "./protocol.ts";

const init = workerData as LoadWorkerInit;
const post = (m: FromLoadWorker) => parentPort!.postMessage(m);

try {
  const reg = raw.vlsb_worker_register();
  if (reg < 0) throw new Error(`vlsb_worker_register: ${errnoName(-reg)}`);
  const opened = openConnections(init);
  post({ type: "connected", id: init.id });
  const startNs = await new Promise<number>((resolve) => parentPort!.once("message", (m: { startNs: number }) => resolve(m.startNs)));
  const result = runLoop({ ...init, startNs }, opened, post);
  post({ type: "result", result });
} catch (e) {
  post({ type: "error", id: init.id, message: (e as Error).message });
}
