// Every CLI flag with a wrong type, a negative or a huge value, and unknown
// flags: exit 2 with one line naming the flag, and nothing started.
import { describe, test, expect } from "bun:test";
import { runCli, SERVER, BENCH, CHECK } from "./helpers/cli.ts";

const cases: Record<string, [string, string[], RegExp][]> = {
  server: [
    ["backend", ["--backend", "dpdk"], /--backend must be one of kernel\|vpp/],
    ["mode", ["--mode", "0"], /--mode must be one of/],
    ["workers type", ["--workers", "two"], /--workers must be an integer/],
    ["workers negative", ["--workers=-1"], /--workers must be between 1 and 32/],
    ["workers huge", ["--workers", "99999999999"], /--workers must be between 1 and 32/],
    ["host", ["--host", "999.1.1.1"], /--host must be an IP address/],
    ["port type", ["--port", "http"], /--port must be an integer/],
    ["port negative", ["--port=-5"], /--port must be between 0 and 65535/],
    ["max-connections", ["--max-connections", "0"], /--max-connections must be between 1/],
    ["counters-json value", ["--counters-json=yes"], /does not take an argument/],
    ["vcl-fifo", ["--backend", "vpp", "--vcl-fifo", "12q"], /--vcl-fifo must be a size/],
    ["vpp-workarounds on kernel", ["--vpp-workarounds", "off"], /--vpp-\*\/--vcl-\* options need --backend vpp/],
    ["vpp-workarounds value", ["--backend", "vpp", "--vpp-workarounds", "maybe"], /--vpp-workarounds must be one of on\|off/],
    ["unknown", ["--turbo"], /Unknown option '--turbo'/],
    ["positional", ["extra"], /Unexpected argument 'extra'/],
  ],
  bench: [
    ["target", ["--target", "127.0.0.1:99999"], /--target port must be 1\.\.65535/],
    ["connections type", ["--connections", "many"], /--connections must be an integer/],
    ["connections huge", ["--connections", "1000000000"], /--connections must be between 1 and 100000/],
    ["workers", ["--workers", "0"], /--workers must be between 1 and 63/],
    ["server-workers", ["--server-workers", "33"], /--server-workers must be between 1 and 32/],
    ["duration zero", ["--duration", "0s"], /--duration must be more than 0/],
    ["duration huge", ["--duration", "100000h"], /--duration must be at most/],
    ["duration type", ["--duration", "soon"], /--duration must be a duration/],
    ["warmup", ["--warmup=-1s"], /--warmup must be a duration/],
    ["size huge", ["--size", "1g"], /--size must be a size|--size must be between/],
    ["size zero", ["--size", "0"], /--size must be between 1/],
    ["timeout", ["--timeout", "0ms"], /--timeout and --connect-timeout must be more than 0/],
    ["connect-timeout", ["--connect-timeout", "x"], /--connect-timeout must be a duration/],
    ["mode", ["--mode", "fast"], /--mode must be one of/],
    ["vpp-topology without vpp", ["--vpp-topology", "stack"], /--vpp-topology and --vpp-socket need --backend vpp/],
    ["vpp-socket without vpp", ["--vpp-socket", "/tmp/x"], /--vpp-topology and --vpp-socket need --backend vpp/],
    ["vpp-socket and vpp-topology", ["--backend", "vpp", "--vpp-socket", "/tmp/x", "--vpp-topology", "stack"], /use one of them/],
    ["vpp-namespace without socket", ["--backend", "vpp", "--vpp-namespace", "1:2"], /--vpp-namespace needs --vpp-socket/],
    ["vpp-namespace malformed", ["--backend", "vpp", "--vpp-socket", "/tmp/x", "--vpp-namespace", "1"], /--vpp-namespace must be ID:SECRET/],
    ["backend with target, no socket", ["--target", "127.0.0.1:9", "--backend", "vpp"], /--backend with --target needs --vpp-socket/],
    ["vpp-workarounds without vpp", ["--vpp-workarounds", "off"], /--vpp-workarounds configures a started server on --backend vpp/],
    ["unknown", ["--rps", "5"], /Unknown option '--rps'/],
    ["html in no directory", ["--html", "/nonexistent/run.html"], /--html \/nonexistent\/run.html: directory \/nonexistent does not exist/],
    ["html a directory", ["--html", "/tmp"], /--html \/tmp: is a directory/],
    ["compare rounds zero", ["--compare", "--rounds", "0"], /--rounds must be between 1 and 100/],
    ["compare rounds type", ["--compare", "--rounds", "many"], /--rounds must be an integer/],
    ["compare html in no directory", ["--compare", "--html", "/nonexistent/c.html"], /--html \/nonexistent\/c.html: directory \/nonexistent does not exist/],
  ],
  check: [
    ["repeat zero", ["--repeat", "0"], /--repeat must be between 1 and 1000/],
    ["repeat type", ["--repeat", "often"], /--repeat must be an integer/],
    ["quick and repeat", ["--quick", "--repeat", "3"], /--quick and --repeat exclude each other/],
    ["only unknown", ["--only", "no-such-probe"], /--only: no probe 'no-such-probe'/],
    ["only empty", ["--only", ","], /--only is empty/],
    ["vpp not there", ["--vpp", "/nonexistent"], /--vpp \/nonexistent: no VPP there/],
    ["nothing to check", ["--no-kernel"], /nothing to check/],
    ["unknown", ["--fast"], /Unknown option '--fast'/],
  ],
};

for (const [cli, list] of Object.entries(cases))
  describe(`${cli} bad input`, () => {
    for (const [name, args, re] of list)
      test(`${name}: exit 2, one line`, async () => {
        const r = await runCli({ server: SERVER, bench: BENCH, check: CHECK }[cli]!, args, 30_000, { VPP_PREFIX: "/nonexistent" });
        expect(r.code).toBe(2);
        expect(r.stdout).toBe("");
        expect(r.stderr).toMatch(re);
        expect(r.stderr.trim().split("\n")).toHaveLength(1);
      });
  });
