/**
 * Behaviour 6 (thread mode, app option rpc_timeout_ms=TIMEOUT): a clone RPC
 * to a worker that never polls. The owner creates a CLOSED session (with a
 * socket underneath) and then blocks in Atomics.wait, outside VLS. The
 * toucher's calls that migrate it (attr, connect) each wait about the RPC
 * timeout and fail with -EBADFD. Then the owner wakes up: its session is
 * intact (flags, connect, data), and the late RPCs it finally drains are
 * discarded (no fd duplicated for a requester that gave up).
 *
 *   bun 06-rpc-timeout.ts BACKEND MODE [TIMEOUT_MS|default]
 *
 * "default" sets no rpc_timeout_ms option: the core's default applies.
 */
import { isMainThread } from "node:worker_threads";
import {
  connectOrCode, scenario, workerMain, startWorker, stage, raw, check, Errno, Poller, spinUntil, acceptAndFinish, transfer, randomPayload,
  equalBytes, counters, workerCounters, socketCount, loopback, encodeEndpoint, nowMs,
} from "./lib.ts";
import { listenTcpAnyPort, Attr, type BackendName, PROTO_TCP } from "../../native/vls.ts";
import { initApp } from "./app.ts";

// ctl: [0] published, [1] handle, [2] toucher done (wakes the owner)
interface Data {
  role: "owner" | "toucher";
  backend: BackendName;
  ctl: SharedArrayBuffer;
}

function owner(d: Data) {
  const ctl = new Int32Array(d.ctl);
  const wrk = check("vlsb_worker_register", raw.vlsb_worker_register());
  // CLOSED, non-blocking (its own connect later must not wait for the accept:
  // a same-app blocking connect hangs on VPP).
  const h = check("vlsb_create", raw.vlsb_create(PROTO_TCP, 1));
  check("vlsb_attr", raw.vlsb_attr(h, Attr.SET_REUSEPORT, 1, null)); // gives it a socket: a clone would dup it
  Atomics.store(ctl, 1, h);
  Atomics.store(ctl, 0, 1);
  stage("blocked in Atomics.wait (not polling VLS)");
  const waited = Atomics.wait(ctl, 2, 0, 30_000);
  stage("awake, use the session");
  const flags = raw.vlsb_attr(h, Attr.GET_FLAGS, 0, null);
  const { handle: l, port } = listenTcpAnyPort(loopback(0), d.backend);
  const connect = connectOrCode(h, port);
  let dataOk = false;
  let s = -1;
  if (connect === 0 || connect === -Errno.EINPROGRESS) {
    s = acceptAndFinish(h, l, 3000);
    const up = randomPayload(32 * 1024), down = randomPayload(32 * 1024);
    dataOk = equalBytes(transfer(h, s, up, 5000), up) && equalBytes(transfer(s, h, down, 5000), down);
  }
  // Drain the late clone requests now.
  const poller = new Poller();
  for (let i = 0; i < 5; i++) poller.poll(1);
  const c = workerCounters(counters(), wrk);
  const sockets = socketCount(); // h, l, s: nothing dup'ed for the late requests
  for (const x of [h, s, l]) raw.vlsb_close(x);
  poller.close();
  return { wrk, waited, flags, connect, dataOk, sockets, rpcsServed: c.rpcsServed, migrationsOk: c.migrationsOk };
}

function toucher(d: Data) {
  const ctl = new Int32Array(d.ctl);
  const wrk = check("vlsb_worker_register", raw.vlsb_worker_register());
  spinUntil(() => Atomics.load(ctl, 0) === 1, 10_000, "the owner's session");
  const h = Atomics.load(ctl, 1);
  const { handle: l, port } = listenTcpAnyPort(loopback(0), d.backend);
  const timed = (f: () => number) => {
    const t0 = nowMs();
    const rv = f();
    return { rv, ms: Math.round(nowMs() - t0) };
  };
  stage("attr on the blocked owner's session");
  const attr = timed(() => raw.vlsb_attr(h, Attr.GET_FLAGS, 0, null));
  stage("connect the blocked owner's session");
  const connect = timed(() => raw.vlsb_connect(h, encodeEndpoint(loopback(port))));
  // Also as a stage line: on VPP the owner's process does not live to print the result.
  stage(`toucher: attr ${attr.rv} in ${attr.ms} ms, connect ${connect.rv} in ${connect.ms} ms`);
  const c = workerCounters(counters(), wrk);
  raw.vlsb_close(l);
  Atomics.store(ctl, 2, 1);
  Atomics.notify(ctl, 2);
  return { wrk, attr, connect, migrationsOk: c.migrationsOk, migrationsFailed: c.migrationsFailed, migrationsTimedOut: c.migrationsTimedOut, rpcsSent: c.rpcsSent };
}

if (!isMainThread) workerMain((d: Data) => (d.role === "owner" ? owner(d) : toucher(d)));
else
  scenario(async ({ backend, mode, extra }) => {
    const useDefault = extra[0] === "default";
    const timeoutMs = useDefault ? null : Number(extra[0] ?? 500);
    await initApp(backend, mode, useDefault ? "" : `rpc_timeout_ms=${timeoutMs}`, { selfConnect: true });
    const ctl = new SharedArrayBuffer(12);
    const o = startWorker<any>(import.meta.url, { role: "owner", backend, ctl } satisfies Data);
    const t = startWorker<any>(import.meta.url, { role: "toucher", backend, ctl } satisfies Data);
    stage("wait for both workers");
    const [or, tr] = await Promise.all([o.result, t.result]);
    return { rpcTimeoutMs: timeoutMs, owner: or, toucher: tr };
  });
