/**
 * The load workers of one run, seen from the main thread: starts them,
 * waits (bounded in time) until each has opened its connections, starts
 * them together, passes their ticks on and collects their results. No
 * worker failure is silent: one before the start (a failed registration,
 * a crash, no "connected" in time) ends the run with every such failure
 * named; one after the start is returned next to the others' results.
 */
import { raw } from "../native/ffi.ts";
import type { FromLoadWorker, LoadWorkerInit, LoadWorkerResult, WorkerTick } from "./protocol.ts";

/** How the pool is driven. */
export interface PoolOptions {
  /** Time every worker has to report "connected" (ms). */
  startupTimeoutMs: number;
  /** Called once, when every worker is connected, with the common start time (native ns). */
  onStart: (startNs: number) => void;
  onTick: (t: WorkerTick) => void;
  /** The workers' script (tests give a fake one); default load-worker.ts. */
  script?: string;
}

/** What the workers gave: results, and the failures of those that gave none. */
export interface PoolOutcome {
  results: LoadWorkerResult[];
  failures: string[];
}

/** Thrown when the run cannot start; names every worker that failed. */
export class WorkerStartError extends Error {}

/** After a worker's "close", how long its last message may still take to arrive (ms). */
const CLOSE_GRACE_MS = 200;

/** Runs the workers to completion; rejects with WorkerStartError if the run cannot start. */
export function runWorkers(inits: LoadWorkerInit[], o: PoolOptions): Promise<PoolOutcome> {
  const workers: Worker[] = [];
  const results: LoadWorkerResult[] = [];
  const failures = new Map<number, string>();
  const connected = new Set<number>();
  let started = false;
  let settled = false;
  return new Promise<PoolOutcome>((resolve, reject) => {
    const finish = (err: Error | null) => {
      if (settled) return;
      settled = true;
      clearTimeout(deadline);
      for (const w of workers) w.terminate();
      if (err) reject(err);
      else resolve({ results, failures: [...failures.entries()].sort((a, b) => a[0] - b[0]).map(([id, m]) => `worker ${id}: ${m}`) });
    };
    const startError = (lines: string[]) => new WorkerStartError(`${lines.length} of ${inits.length} load workers failed to start: ${lines.join("; ")}`);
    const check = () => {
      if (settled) return;
      if (!started) {
        if (connected.size + failures.size < inits.length) return;
        if (failures.size) return finish(startError([...failures.entries()].sort((a, b) => a[0] - b[0]).map(([id, m]) => `worker ${id}: ${m}`)));
        started = true;
        clearTimeout(deadline);
        // A common start a little ahead, so every worker begins together.
        const startNs = raw.vlsb_now_ns() + 20e6;
        o.onStart(startNs);
        for (const w of workers) w.postMessage({ startNs });
        return;
      }
      if (results.length + failures.size === inits.length) finish(null);
    };
    const fail = (id: number, message: string) => {
      if (failures.has(id) || results.some((r) => r.id === id)) return;
      failures.set(id, message);
      check();
    };
    const deadline = setTimeout(() => {
      const missing = inits.filter((i) => !connected.has(i.id) && !failures.has(i.id)).map((i) => i.id);
      for (const id of missing) failures.set(id, `not connected within ${o.startupTimeoutMs / 1000}s`);
      finish(startError([...failures.entries()].sort((a, b) => a[0] - b[0]).map(([id, m]) => `worker ${id}: ${m}`)));
    }, o.startupTimeoutMs);
    for (const init of inits) {
      const w = new Worker(o.script ?? new URL("./load-worker.ts", import.meta.url).href, { workerData: init } as WorkerOptions);
      w.onmessage = (ev: MessageEvent<FromLoadWorker>) => {
        const m = ev.data;
        if (m.type === "tick") o.onTick(m);
        else if (m.type === "connected") {
          connected.add(m.id);
          check();
        } else if (m.type === "result") {
          results.push(m.result);
          check();
        } else fail(m.id, m.message);
      };
      w.onerror = (e) => fail(init.id, e.message || "uncaught error");
      w.addEventListener("close", (e) => {
        const code = (e as CloseEvent & { code?: number }).code;
        setTimeout(() => fail(init.id, `exited (code ${code ?? "?"}) without a result`), CLOSE_GRACE_MS);
      });
      workers.push(w);
    }
  });
}
