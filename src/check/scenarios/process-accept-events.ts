/**
 * Process mode, the known hazard "accept that never gets an event" (VCL in
 * a forked child printing "session overlap" for a session it accepted):
 * the parent creates a listener and forks CHILDREN native echo workers;
 * each creates its own epoll set, adds the listener, accepts non-blocking,
 * adds every accepted session to its set and echoes on its events. Then
 * CONNECTIONS clients each send one message of SIZE bytes and wait (2 s at
 * most) for it to come back verified. A connection a child accepted whose
 * data event never arrived is never echoed: the result counts the
 * connections served, and the accepts the children made.
 *
 * kernel: clients are kernel sockets in this process; vpp: another VCL app
 * (the load generator), one message per connection.
 *
 *   bun process-accept-events.ts BACKEND process [CHILDREN] [CONNECTIONS] [SIZE]
 */
import { connect } from "node:net";
import { scenario, stage, raw, counters, nowMs, alive, randomPayload, type Counters } from "./lib.ts";
import { processModeParent, clientEcho } from "./app.ts";
import { forkEchoWorkers } from "../../native/ffi.ts";
import type { BackendName } from "../../native/vls.ts";

const ECHO_TIMEOUT_MS = 2000;

/** One kernel-socket echo of `payload`: true when every byte came back within the bound. */
function echoWithin(port: number, payload: Uint8Array): Promise<boolean> {
  return new Promise((resolve) => {
    const sock = connect({ host: "127.0.0.1", port });
    const chunks: Buffer[] = [];
    let got = 0;
    const done = (ok: boolean) => {
      clearTimeout(timer);
      sock.destroy();
      resolve(ok);
    };
    const timer = setTimeout(() => done(false), ECHO_TIMEOUT_MS);
    sock.on("connect", () => sock.write(payload));
    sock.on("data", (d: Buffer) => {
      chunks.push(d);
      got += d.length;
      if (got >= payload.length) done(Buffer.concat(chunks).equals(Buffer.from(payload.buffer, payload.byteOffset, payload.byteLength)));
    });
    sock.on("error", () => done(false));
    sock.on("close", () => done(got >= payload.length));
  });
}

scenario(async ({ backend, mode, extra }) => {
  if (mode !== "process") throw new Error("a process-mode scenario");
  const children = Number(extra[0] ?? 2);
  const conns = Number(extra[1] ?? 32);
  const size = Number(extra[2] ?? 1024);
  // A real SIGCHLD handler before the fork: without one VPP 24.06's VLS
  // chains SIGCHLD to itself and the parent dies when a child exits.
  process.on("SIGCHLD", () => {});
  const { l, port, pep, evs } = await processModeParent(backend as BackendName);
  const parentWrk = raw.vlsb_worker_index();
  stage(`fork ${children} echo children`);
  const pids = forkEchoWorkers(l, children);
  const childAccepts = (c: Counters) => pids.map((pid) => c.workers.find((w) => w.pid === pid && w.index !== parentWrk)?.accepts ?? 0);

  stage(`${conns} connections x ${size} B, each echo within ${ECHO_TIMEOUT_MS} ms`);
  const t0 = nowMs();
  let served: number, client: object | null = null;
  if (backend === "vpp") {
    const r = await clientEcho(port, conns, conns, size, 20_000, ECHO_TIMEOUT_MS / 1000);
    served = r.messages;
    client = { ok: r.ok, errors: Object.fromEntries(Object.entries(r.errors).filter(([, n]) => n !== 0)), firstError: r.firstError };
  } else {
    const oks = await Promise.all(Array.from({ length: conns }, () => echoWithin(port, randomPayload(size))));
    served = oks.filter(Boolean).length;
  }
  const echoMs = Math.round(nowMs() - t0);
  const accepts = childAccepts(counters());

  stage("stop the children");
  for (const pid of pids) process.kill(pid, "SIGTERM");
  const t1 = nowMs();
  // The parent's epoll wait is where VLS cleans up a dead child (the
  // embedded model reaps it there too); the app reaps what is left.
  while ((pids.some(alive) || (backend === "kernel" && counters().childCleanups < children)) && nowMs() - t1 < 5000) {
    raw.vlsb_epoll_wait(pep, evs, 16, 0);
    await Bun.sleep(5);
  }
  const childrenGone = !pids.some(alive);
  raw.vlsb_reap_children();
  raw.vlsb_close(pep);
  raw.vlsb_close(l);
  return { children, connections: conns, served, accepts, acceptedTotal: accepts.reduce((a, x) => a + x, 0), echoMs, childrenGone, forks: counters().forks, client };
});
