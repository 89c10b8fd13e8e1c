/**
 * The line a server prints once it accepts connections:
 * `ready HOST:PORT key=value ...` (vlsbench's server, c-echo, vlsb-echo).
 * One format, one parser, for every program that waits for it.
 */

/** The server's ready line, without the newline. */
export function formatReadyLine(host: string, port: number, fields: Record<string, string | number>): string {
  return [`ready ${host}:${port}`, ...Object.entries(fields).map(([k, v]) => `${k}=${v}`)].join(" ");
}

/** Host and port of the first ready line in `text` (a line of its own), or null. */
export function parseReadyLine(text: string): { host: string; port: number } | null {
  const m = text.match(/(?:^|\n)ready (\S+):(\d+)(?:[ \n]|$)/);
  return m ? { host: m[1], port: Number(m[2]) } : null;
}
