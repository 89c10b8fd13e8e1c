/**
 * One load run: start the workers, let them connect, give them a common
 * start time, merge their histograms once, and summarise.
 */
import { raw } from "../native/ffi.ts";
import { mergeHistograms, summarise, encodeHistogram, type LatencyUs } from "./histogram.ts";
import { noErrors, type ErrorCounts, type FromLoadWorker, type LoadWorkerInit, type LoadWorkerResult } from "./protocol.ts";

/** Load parameters. */
export interface LoadConfig {
  host: string;
  port: number;
  connections: number;
  workers: number;
  size: number;
  warmupSec: number;
  durationSec: number;
  timeoutSec: number;
  connectTimeoutSec: number;
}

/** The merged result of a run. */
export interface LoadResult {
  durationSec: number;
  messages: number;
  msgsPerSec: number;
  bytesPerSec: number;
  errors: ErrorCounts;
  latencyUs: LatencyUs;
  histogram: string;
  perConnection: { min: number; median: number; max: number };
  perWorker: { id: number; messages: number; errors: number }[];
  firstError: string | null;
}

/** Splits n connections over w workers as evenly as possible. */
export function split(n: number, w: number): number[] {
  return Array.from({ length: w }, (_, i) => Math.floor(n / w) + (i < n % w ? 1 : 0));
}

/** Runs the load; resolves when every worker has reported. */
export async function runLoad(cfg: LoadConfig): Promise<LoadResult> {
  const shares = split(cfg.connections, cfg.workers).filter((c) => c > 0);
  const workers: Worker[] = [];
  const results: LoadWorkerResult[] = [];
  const failures: string[] = [];
  let connected = 0;
  await new Promise<void>((resolve) => {
    const check = () => {
      if (results.length + failures.length === workers.length) resolve();
    };
    shares.forEach((connections, id) => {
      const init: LoadWorkerInit = { id, host: cfg.host, port: cfg.port, connections, size: cfg.size, warmupSec: cfg.warmupSec, durationSec: cfg.durationSec, timeoutSec: cfg.timeoutSec, connectTimeoutSec: cfg.connectTimeoutSec, startNs: 0 };
      const w = new Worker(new URL("./load-worker.ts", import.meta.url).href, { workerData: init } as WorkerOptions);
      w.onmessage = (ev: MessageEvent<FromLoadWorker | { type: "connected" }>) => {
        const m = ev.data;
        if (m.type === "connected") {
          // A common start a little ahead, so every worker begins together.
          if (++connected === shares.length) {
            const startNs = raw.vlsb_now_ns() + 20e6;
            for (const x of workers) x.postMessage({ startNs });
          }
        } else if (m.type === "result") {
          results.push(m.result);
          check();
        } else {
          failures.push(`worker ${m.id}: ${m.message}`);
          check();
        }
      };
      w.onerror = (e) => {
        failures.push(`worker ${id}: ${e.message}`);
        check();
      };
      workers.push(w);
    });
  });
  for (const w of workers) w.terminate();
  if (failures.length && !results.length) throw new Error(failures[0]);

  const errors = noErrors();
  for (const r of results) for (const k of Object.keys(errors) as (keyof ErrorCounts)[]) errors[k] += r.errors[k];
  const hist = mergeHistograms(results.map((r) => r.histogram));
  const messages = results.reduce((a, r) => a + r.messages, 0);
  const durationSec = Math.max(1e-9, ...results.map((r) => r.measuredNs / 1e9));
  const perConn = results.flatMap((r) => r.perConnection).sort((a, b) => a - b);
  return {
    durationSec,
    messages,
    msgsPerSec: messages / durationSec,
    bytesPerSec: (messages * cfg.size) / durationSec,
    errors,
    latencyUs: summarise(hist),
    histogram: encodeHistogram(hist),
    perConnection: { min: perConn[0] ?? 0, median: perConn[Math.floor(perConn.length / 2)] ?? 0, max: perConn[perConn.length - 1] ?? 0 },
    perWorker: results.sort((a, b) => a.id - b.id).map((r) => ({ id: r.id, messages: r.messages, errors: Object.values(r.errors).reduce((a, b) => a + b, 0) })),
    firstError: failures[0] ?? results.find((r) => r.firstError)?.firstError ?? null,
  };
}

/** Total of all error kinds. */
export function errorTotal(e: ErrorCounts): number {
  return e.connect + e.read + e.write + e.verify + e.timeout;
}
