/**
 * 64 load workers (one more than the core has room for beside this main
 * thread) against a small echo server: runLoad must reject, naming the
 * worker whose registration failed, instead of waiting for it forever.
 *   bun test/scenarios/too-many-load-workers.ts
 * Prints {rejected, message}.
 */
import { appInit } from "../../src/native/vls.ts";
import { runLoad } from "../../src/loadgen/run.ts";

appInit("kernel", "thread");
const server = Bun.listen({ hostname: "127.0.0.1", port: 0, socket: { data: (s, d) => void s.write(d) } });
const out = await runLoad({ host: "127.0.0.1", port: server.port, connections: 64, workers: 64, size: 64, warmupSec: 0, durationSec: 0.2, timeoutSec: 2, connectTimeoutSec: 2 }).then(
  () => ({ rejected: false, message: "" }),
  (e: Error) => ({ rejected: true, message: e.message }),
);
console.log(JSON.stringify(out));
process.exit(0);
