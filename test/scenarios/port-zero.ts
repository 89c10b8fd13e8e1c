/**
 * Port-0 scenario: listen on port 0 and read the local address back.
 *   bun test/scenarios/port-zero.ts kernel|vpp
 * Prints {rv, port}. For vpp, VPP is started (and stopped) here.
 */
import { raw, check } from "../../src/native/ffi.ts";
import { appInit, encodeEndpoint, decodeEndpoint, Attr, EP_SIZE } from "../../src/native/vls.ts";

const backend = process.argv[2] as "kernel" | "vpp";
let stop = async () => {};
let opts = "";
if (backend === "vpp") {
  const { prepareVppRun } = await import("../../src/vpp/run-setup.ts");
  const { findVpp } = await import("../../src/vpp/find.ts");
  const run = await prepareVppRun({ topology: "cut-through" });
  opts = `lib=${findVpp()!.libvppcom};vcl_config=${run.vpp.writeVcl("server", "single")};app_name=port0-${process.pid}`;
  stop = () => run.vpp.stop();
}
appInit(backend, "single", opts);
const h = check("create", raw.vlsb_create(0, 1));
check("bind", raw.vlsb_bind(h, encodeEndpoint({ host: "127.0.0.1", port: 0 })));
const listenRv = raw.vlsb_listen(h, 16);
const ep = new Uint8Array(new ArrayBuffer(EP_SIZE));
const rv = raw.vlsb_attr(h, Attr.GET_LCL_ADDR, 0, ep);
raw.vlsb_close(h);
await stop();
console.log(JSON.stringify({ listenRv, rv, port: decodeEndpoint(ep).port }));
process.exit(0);
