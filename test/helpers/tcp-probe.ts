/** Small node:net clients for the server hardening tests (any host, many sockets). */
import { connect, type Socket } from "node:net";

/** Sends `text` to host:port and resolves with what came back (up to its length), or rejects. */
export function echoText(host: string, port: number, text: string, timeoutMs = 10_000): Promise<string> {
  return new Promise((resolve, reject) => {
    const sock = connect({ host, port });
    let got = "";
    const timer = setTimeout(() => {
      sock.destroy();
      reject(new Error(`echo to ${host}:${port}: ${JSON.stringify(got)} after ${timeoutMs} ms`));
    }, timeoutMs);
    sock.on("connect", () => sock.write(text));
    sock.on("data", (d: Buffer) => {
      got += d.toString();
      if (got.length >= text.length) {
        clearTimeout(timer);
        sock.end();
        resolve(got);
      }
    });
    sock.on("error", (e) => {
      clearTimeout(timer);
      reject(e);
    });
  });
}

/** What happened to one of several concurrent connections. */
export type ProbeOutcome = "echoed" | "closed" | "timeout";

/**
 * Opens n connections at once, each sends one byte and waits for its echo;
 * resolves with each one's outcome and only then closes them all (so they
 * are concurrent for the whole probe).
 */
export async function probeConcurrent(host: string, port: number, n: number, timeoutMs = 10_000): Promise<ProbeOutcome[]> {
  const socks: Socket[] = [];
  const outcomes = await Promise.all(
    Array.from({ length: n }, () =>
      new Promise<ProbeOutcome>((resolve) => {
        const sock = connect({ host, port });
        socks.push(sock);
        const timer = setTimeout(() => resolve("timeout"), timeoutMs);
        const done = (o: ProbeOutcome) => {
          clearTimeout(timer);
          resolve(o);
        };
        sock.on("connect", () => sock.write("x"));
        sock.on("data", () => done("echoed"));
        sock.on("end", () => done("closed"));
        sock.on("close", () => done("closed"));
        sock.on("error", () => done("closed"));
      }),
    ),
  );
  for (const s of socks) s.destroy();
  return outcomes;
}
