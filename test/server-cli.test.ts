// The server CLI: ready line, port 0, clean shutdown with counters, misuse.
import { describe, test, expect } from "bun:test";
import { startServerChild } from "../src/loadgen/server-child.ts";
import { runCli, SERVER } from "./helpers/cli.ts";
import { echoOnce, randomBytes } from "./helpers/echo-client.ts";

describe("server", () => {
  for (const mode of ["single", "thread", "process"]) {
    test(`ready line, echo, SIGTERM exits 0 within 2 s with counters (${mode})`, async () => {
      const srv = await startServerChild({ backend: "kernel", mode, workers: 2, host: "127.0.0.1" });
      expect(srv.readyLine).toMatch(new RegExp(`^ready 127\\.0\\.0\\.1:\\d+ backend=kernel mode=${mode} workers=2 echo=(js|native)$`));
      expect(srv.port).toBeGreaterThan(0); // port 0 was asked: the real one is printed
      const payload = randomBytes(100_000, 7);
      expect((await echoOnce(srv.port, payload)).equals(Buffer.from(payload))).toBe(true);
      const t0 = Date.now();
      const counters = (await srv.stop()) as { workers: { messages: number; bytesIn: number }[]; native: { workers: { accepts: number; bytesIn: number }[] } };
      const code = await srv.proc.exited;
      expect(Date.now() - t0).toBeLessThan(2000);
      expect(code).toBe(0);
      expect(counters).not.toBeNull();
      const nativeIn = counters.native.workers.reduce((a, w) => a + w.bytesIn, 0);
      expect(nativeIn).toBe(payload.length); // every byte read once by the core
      if (mode !== "process") expect(counters.workers.reduce((a, w) => a + w.bytesIn, 0)).toBe(payload.length);
      expect(counters.native.workers.reduce((a, w) => a + w.accepts, 0)).toBe(1);
    });
  }

  test("SIGINT also stops it cleanly, per-worker counters on stderr", async () => {
    const srv = await startServerChild({ backend: "kernel", mode: "single", workers: 3, host: "127.0.0.1" });
    srv.proc.kill("SIGINT");
    expect(await srv.proc.exited).toBe(0);
    const err = await new Response(srv.proc.stderr).text();
    expect(err).toMatch(/worker 0 \(vcl 0\): accepted=0/);
    expect(err).toMatch(/worker 2 \(vcl 0\)/);
    expect(err).toMatch(/^locks pool=/m);
  });

  test("--help prints usage and exits 0", async () => {
    const r = await runCli(SERVER, ["--help"]);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain("--mode single|thread|process");
  });

  const misuse: [string[], RegExp][] = [
    [["--mode", "fast"], /--mode must be one of single\|thread\|process/],
    [["--workers", "0"], /--workers must be between 1 and 32/],
    [["--workers", "abc"], /--workers must be an integer/],
    [["--port", "70000"], /--port must be between 0 and 65535/],
    [["--host", "example.com"], /--host must be an IP address/],
    [["--bogus"], /Unknown option '--bogus'/],
    [["--backend", "vpp"], /VPP not found \(searched \/nonexistent for bin\/vpp.*set VPP_PREFIX/],
    [["--vpp-topology", "stack"], /need --backend vpp/],
    [["--backend", "vpp", "--vpp-namespace", "x"], /--vpp-namespace must be ID:SECRET/],
  ];
  for (const [args, re] of misuse)
    test(`misuse ${args.join(" ")} exits 2 with one line`, async () => {
      const r = await runCli(SERVER, args, 60_000, { VPP_PREFIX: "/nonexistent" });
      expect(r.code).toBe(2);
      expect(r.stderr).toMatch(re);
      expect(r.stderr.trim().split("\n").length).toBe(1);
    });

  test("a port in use is a clear error, exit 1", async () => {
    const srv = await startServerChild({ backend: "kernel", mode: "single", workers: 1, host: "127.0.0.1" });
    const r = await runCli(SERVER, ["--port", String(srv.port)]);
    await srv.stop();
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/EADDRINUSE/);
  });
});
