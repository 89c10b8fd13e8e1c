/**
 * The Bun.listen echo server that vlsbench's server is compared with,
 * written the way Bun recommends: write at once, queue only the unsent
 * rest, flush it on drain. Prints "ready 127.0.0.1:PORT".
 */
type Conn = { rest: Uint8Array | null };

const server = Bun.listen<Conn>({
  hostname: "127.0.0.1",
  port: Number(process.argv[2] ?? 0),
  socket: {
    open(s) {
      s.data = { rest: null };
      s.setNoDelay(true);
    },
    data(s, chunk) {
      if (s.data.rest) {
        // Still draining: append (copies), keep order.
        const r = new Uint8Array(s.data.rest.length + chunk.length);
        r.set(s.data.rest);
        r.set(chunk, s.data.rest.length);
        s.data.rest = r;
        return;
      }
      const n = s.write(chunk);
      if (n < chunk.length) s.data.rest = chunk.slice(Math.max(0, n));
    },
    drain(s) {
      const r = s.data.rest;
      if (!r) return;
      const n = s.write(r);
      s.data.rest = n < r.length ? r.slice(Math.max(0, n)) : null;
    },
  },
});
console.log(`ready 127.0.0.1:${server.port}`);
process.on("SIGTERM", () => process.exit(0));
