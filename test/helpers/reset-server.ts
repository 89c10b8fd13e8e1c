/** A TCP server that resets every connection as soon as it is accepted (SO_LINGER 0 close). */
import { createServer, type Server } from "node:net";

/** Listens on 127.0.0.1, port 0; resolves with the server and its port. */
export function startResetServer(): Promise<{ server: Server; port: number }> {
  const server = createServer((s) => {
    s.on("error", () => {});
    s.resetAndDestroy();
  });
  return new Promise((resolve) => server.listen(0, "127.0.0.1", () => resolve({ server, port: (server.address() as { port: number }).port })));
}
