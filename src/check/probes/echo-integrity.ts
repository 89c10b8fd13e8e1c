/** Probes: echo integrity of the real server in each mode, 4 workers. */
import { brief, type Probe } from "../probe.ts";

const CONNS = 64;
const SIZE = 64 * 1024;
const WORKERS = 4;
const sum = (a: number[]) => a.reduce((x, y) => x + y, 0);

type Mode = "single" | "thread" | "process";

/**
 * The server with 4 workers in `mode`; 64 connections each echo their own
 * random 64 KiB. On the embedded model kernel-socket clients send it in
 * several writes and compare every byte; on VPP another VCL app (the load
 * generator) sends it and checks every byte.
 */
function echoIntegrity(mode: Mode, behaviour: string, raw = false): Probe {
  return {
    id: raw ? `echo-${mode}-no-workarounds` : `echo-integrity-${mode}`,
    behaviour,
    kind: raw ? "hazard" : "design",
    scenario: "01-echo-integrity",
    args: () => [mode, String(CONNS), String(SIZE), String(WORKERS), ...(raw ? ["raw"] : [])],
    timeoutMs: 15_000,
    judge({ result: r }, ctx) {
      if (!r || r.mode !== mode) throw new Error(`not a ${mode}-mode result`);
      const diffs: string[] = [];
      if (ctx.backend === "vpp") {
        if (!r.client || typeof r.client.ok !== "boolean") throw new Error("no client report");
        const errs = Object.entries(r.client.errors ?? {}).filter(([, n]) => n !== 0);
        if (!r.client.ok || errs.length) diffs.push(`client: ${r.client.messages}/${CONNS} echoes, errors ${brief(Object.fromEntries(errs))}${r.client.firstError ? `, first: ${r.client.firstError}` : ""}`);
      } else {
        if (!Array.isArray(r.wrong) || typeof r.exact !== "number") throw new Error("no per-connection verdicts");
        if (r.exact !== CONNS) diffs.push(`${r.exact}/${CONNS} connections echoed exactly; ${r.wrong.slice(0, 3).map((w: any) => `conn ${w.conn}: ${w.why}`).join("; ")}`);
      }
      if (mode === "process") {
        if (r.childPids?.length !== WORKERS) diffs.push(`${r.childPids?.length} forked workers, not ${WORKERS}`);
      } else {
        const accepted = sum(r.jsAccepted ?? []);
        if (accepted !== CONNS || r.jsBytesOut !== CONNS * SIZE || r.jsErrors !== 0) diffs.push(`server: ${accepted} accepted, ${r.jsBytesOut} B out, ${r.jsErrors} errors`);
      }
      return diffs.length ? diffs.join("; ") : null;
    },
  };
}

/**
 * Single mode: every thread shares one VCL worker. On VPP this is also the
 * known hazard "single-worker VLS with several threads loses events" (a
 * stalled connection, seen there as a client timeout): still the design's
 * promise, so a lost event is a `differs`.
 */
export const echoIntegritySingle = echoIntegrity("single", `Single-worker mode, ${WORKERS} threads sharing one VCL worker: ${CONNS} connections x ${SIZE} B each come back byte for byte (no event is lost between the threads).`);

/** Thread mode: each thread its own VCL worker, its own epoll set and listener. */
export const echoIntegrityThread = echoIntegrity("thread", `Per-thread workers mode, ${WORKERS} worker threads each with its own listener: ${CONNS} connections x ${SIZE} B each come back byte for byte.`);

/** Process mode: 4 forked workers sharing the parent's listener. */
export const echoIntegrityProcess = echoIntegrity("process", `Per-process workers mode, ${WORKERS} forked workers sharing one listener: ${CONNS} connections x ${SIZE} B each come back byte for byte.`);

/**
 * The same single-mode echo with the server's workarounds of VPP defects
 * off (server --vpp-workarounds off): every worker accepts and waits in
 * epoll_wait as a plain application would. Shows VPP's accept/epoll_wait
 * races between threads of one VCL worker (lost events, a ring consumed by
 * two threads); on the embedded model there is nothing to work around.
 */
export const echoSingleNoWorkarounds = echoIntegrity("single", `Single-worker mode, ${WORKERS} threads accepting and waiting in epoll_wait concurrently as a plain application would (vlsbench's VPP workarounds off): ${CONNS} connections x ${SIZE} B each come back byte for byte.`, true);
