/** The kernel-socket echo client the probes use (src/check/scenarios/echo-client.ts), for tests. */
export { echoOnce, randomBytes } from "../../src/check/scenarios/echo-client.ts";
