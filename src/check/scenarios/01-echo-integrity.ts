/**
 * Behaviour 1: echo integrity. The real server (src/server/server.ts) in the
 * given mode with 4 workers (or WORKERS); 64 plain kernel-socket clients (node:net) in
 * this process each send their own random payload in several writes and get
 * back exactly those bytes. Then the server stops and reports its counters.
 * On VPP the clients are another VCL app (vlsbench's load generator: one
 * message of PAYLOAD_BYTES per connection, every byte checked).
 *
 *   bun 01-echo-integrity.ts BACKEND MODE [CONNECTIONS] [PAYLOAD_BYTES] [WORKERS]
 */
import { echoOnce } from "./echo-client.ts";
import { scenario, stage, randomPayload, nowMs, type Counters } from "./lib.ts";
import { startServer } from "../../server/server.ts";
import { appOptionsFor, clientEcho } from "./app.ts";

const WRITES = 4;

scenario(async ({ backend, mode, extra }) => {
  const nConn = Number(extra[0] ?? 64);
  const size = Number(extra[1] ?? 64 * 1024);
  const workers = Number(extra[2] ?? 4);
  // "raw": the server without its workarounds of VPP defects (server --vpp-workarounds off).
  const vppWorkarounds = extra[3] !== "raw";
  stage(`start server (${mode}, ${workers} workers${vppWorkarounds ? "" : ", no VPP workarounds"})`);
  const srv = await startServer({ backend, mode, workers, host: "127.0.0.1", port: 0, maxConnections: 100000, appOptions: await appOptionsFor(backend, mode), vppWorkarounds });
  if (backend === "vpp") {
    stage(`${nConn} VCL client connections x ${size} B`);
    const client = await clientEcho(srv.port, nConn, nConn, size);
    await Bun.sleep(100);
    stage("stop server");
    const rep = await srv.stop();
    return { mode, connections: nConn, client, jsAccepted: rep.workers.map((w) => w.accepted), jsBytesOut: rep.workers.reduce((a, w) => a + w.bytesOut, 0), jsErrors: rep.workers.reduce((a, w) => a + w.errors, 0), childPids: rep.childPids };
  }
  const payloads = Array.from({ length: nConn }, () => randomPayload(size));
  stage(`${nConn} connections x ${size} B`);
  const t0 = nowMs();
  const outcomes = await Promise.allSettled(payloads.map((p) => echoOnce(srv.port, p, 30_000, { writes: WRITES })));
  const echoMs = Math.round(nowMs() - t0);
  const exact: number[] = [];
  const wrong: { conn: number; why: string }[] = [];
  outcomes.forEach((o, i) => {
    if (o.status === "rejected") wrong.push({ conn: i, why: String((o.reason as Error).message ?? o.reason) });
    else if (o.value.length !== size) wrong.push({ conn: i, why: `length ${o.value.length}` });
    else if (!o.value.equals(Buffer.from(payloads[i].buffer))) {
      let k = 0;
      while (o.value[k] === payloads[i][k]) k++;
      wrong.push({ conn: i, why: `bytes differ from offset ${k}` });
    } else exact.push(i);
  });
  await Bun.sleep(100); // let the server see the clients' FINs
  stage("stop server");
  const rep = await srv.stop();
  const native = rep.native as Counters;
  return {
    mode, connections: nConn, payloadBytes: size, exact: exact.length, wrong: wrong.slice(0, 10), echoMs,
    jsAccepted: rep.workers.map((w) => w.accepted),
    jsBytesOut: rep.workers.reduce((a, w) => a + w.bytesOut, 0),
    jsErrors: rep.workers.reduce((a, w) => a + w.errors, 0),
    childPids: rep.childPids,
    native: native.workers.map((w) => ({ index: w.index, pid: w.pid, accepts: w.accepts, errors: w.errors, migrationsOk: w.migrationsOk, migrationsFailed: w.migrationsFailed, migrationsTimedOut: w.migrationsTimedOut, rpcsServed: w.rpcsServed, listenerStarts: w.listenerStarts })),
    forks: native.forks,
  };
});
