// bun run check on a real VPP (the one VPP_PREFIX names; npm run test:vpp
// runs this once per VPP): --quick ends within its bound with well formed
// JSON naming that VPP's version. Which outcomes VPP shows is reported, not
// asserted: they are VPP's findings (the conformance suite pins the
// deterministic ones).
import { describe, expect, test } from "bun:test";
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { findVpp, vppVersion, vppNotFoundReason } from "../src/vpp/find.ts";
import { CATALOG } from "../src/check/catalog.ts";
import { runCli, CHECK } from "./helpers/cli.ts";

const install = findVpp();
const version = install ? vppVersion(install).short : "";
const vtest = install ? test : test.skip;

describe(`vpp backend ${version} check${install ? "" : ` [skipped: ${vppNotFoundReason()}]`}`, () => {
  vtest("check --quick --no-kernel: every probe ran to a classified outcome, JSON well formed, exit 0", async () => {
    const dir = mkdtempSync(join(tmpdir(), "vlsbench-vpp-check-"));
    const t0 = Date.now();
    const r = await runCli(CHECK, ["--quick", "--no-kernel", "--json", join(dir, "c.json"), "--html", join(dir, "c.html")], 280_000);
    const seconds = (Date.now() - t0) / 1000;
    const j = JSON.parse(readFileSync(join(dir, "c.json"), "utf8"));
    expect(j.targets).toEqual([expect.objectContaining({ backend: "vpp", version, label: `vpp ${version}` })]);
    const vppProbes = CATALOG.filter((p) => !p.backends || p.backends.includes("vpp")).map((p) => p.id).sort();
    expect(j.tallies.map((t: any) => t.probe).sort()).toEqual(vppProbes);
    const errors = j.tallies.filter((t: any) => t.counts.error > 0).map((t: any) => `${t.probe}: ${JSON.stringify(t.details)}`);
    expect(errors).toEqual([]);
    for (const t of j.tallies) expect(t.runs).toBe(1);
    expect(r.code).toBe(0);
    expect(readFileSync(join(dir, "c.html"), "utf8")).toContain(`vpp ${version}`);
    console.log(`check --quick on VPP ${version}: ${seconds.toFixed(0)} s\n${r.stdout}`);
  }, 300_000);
});
