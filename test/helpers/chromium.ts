/**
 * Renders a local HTML file in headless Chromium (Debian's chromium package)
 * through the DevTools protocol, collects console errors and uncaught
 * exceptions, and measures what each chart container painted.
 */
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

/** The Chromium binary, or null (then the render tests skip). */
export function findChromium(): string | null {
  const candidates = [process.env.CHROMIUM, "/usr/bin/chromium", "/usr/bin/chromium-browser", "/usr/bin/google-chrome"];
  return candidates.find((p): p is string => !!p && existsSync(p)) ?? null;
}

/** What one chart container drew: its canvas size and coloured pixels (grid
 * and axes are grey, so coloured pixels are the data: lines and bars). */
export interface ChartPaint {
  id: string;
  canvas: boolean;
  width: number;
  height: number;
  coloured: number;
}

/** The outcome of rendering a page. */
export interface Rendered {
  errors: string[];
  charts: ChartPaint[];
}

// Runs in the page: per `.chart` element, the pixels of its canvas whose
// channels differ by more than 60 (saturated colour, not grey).
const MEASURE = `JSON.stringify([...document.querySelectorAll(".chart")].map((d) => {
  const c = d.querySelector("canvas");
  if (!c) return { id: d.id, canvas: false, width: 0, height: 0, coloured: 0 };
  const px = c.getContext("2d").getImageData(0, 0, c.width, c.height).data;
  let coloured = 0;
  for (let i = 0; i < px.length; i += 4) {
    if (px[i + 3] === 0) continue;
    const hi = Math.max(px[i], px[i + 1], px[i + 2]), lo = Math.min(px[i], px[i + 1], px[i + 2]);
    if (hi - lo > 60) coloured++;
  }
  return { id: d.id, canvas: true, width: c.width, height: c.height, coloured };
}))`;

type Message = { id?: number; method?: string; params?: any; result?: any; error?: { message: string }; sessionId?: string };

/** Loads `file` in a fresh headless Chromium, waits for the load event and
 * `settleMs` more, then measures the charts. Bounded by `timeoutMs`. */
export async function renderPage(file: string, { timeoutMs = 30_000, settleMs = 300 } = {}): Promise<Rendered> {
  const chromium = findChromium();
  if (!chromium) throw new Error("chromium not found");
  const profile = mkdtempSync(join(tmpdir(), "vlsbench-chromium-"));
  const proc = Bun.spawn([chromium, "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--remote-debugging-port=0", `--user-data-dir=${profile}`, "about:blank"], { stdout: "ignore", stderr: "pipe", stdin: "ignore" });
  const timer = setTimeout(() => proc.kill("SIGKILL"), timeoutMs);
  try {
    const wsUrl = await devtoolsUrl(proc.stderr);
    const cdp = await connect(wsUrl);
    const errors: string[] = [];
    cdp.onEvent((m) => {
      if (m.method === "Runtime.exceptionThrown") errors.push(`exception: ${m.params.exceptionDetails.exception?.description ?? m.params.exceptionDetails.text}`);
      if (m.method === "Runtime.consoleAPICalled" && (m.params.type === "error" || m.params.type === "assert")) errors.push(`console.${m.params.type}: ${m.params.args.map((a: any) => a.value ?? a.description).join(" ")}`);
      if (m.method === "Log.entryAdded" && m.params.entry.level === "error") errors.push(`log: ${m.params.entry.text}`);
    });
    const { targetId } = await cdp.call("Target.createTarget", { url: "about:blank" });
    const { sessionId } = await cdp.call("Target.attachToTarget", { targetId, flatten: true });
    for (const domain of ["Runtime", "Log", "Page"]) await cdp.call(`${domain}.enable`, {}, sessionId);
    const loaded = cdp.waitFor("Page.loadEventFired");
    await cdp.call("Page.navigate", { url: `file://${file}` }, sessionId);
    await loaded;
    await Bun.sleep(settleMs);
    const { result } = await cdp.call("Runtime.evaluate", { expression: MEASURE, returnByValue: true }, sessionId);
    cdp.close();
    return { errors, charts: JSON.parse(result.value) };
  } finally {
    clearTimeout(timer);
    proc.kill("SIGKILL");
    await proc.exited;
    rmSync(profile, { recursive: true, force: true });
  }
}

/** Reads Chromium's stderr until it prints its DevTools WebSocket address. */
async function devtoolsUrl(stderr: ReadableStream<Uint8Array>): Promise<string> {
  const reader = stderr.getReader();
  const dec = new TextDecoder();
  let text = "";
  for (;;) {
    const { value, done } = await reader.read();
    if (done) throw new Error(`chromium exited before DevTools listened: ${text.trim().split("\n").slice(-3).join(" | ")}`);
    text += dec.decode(value);
    const m = text.match(/DevTools listening on (ws:\/\/\S+)/);
    if (m) {
      reader.releaseLock();
      stderr.pipeTo(new WritableStream()).catch(() => {});
      return m[1];
    }
  }
}

/** A minimal DevTools protocol client over one WebSocket. */
async function connect(url: string) {
  const ws = new WebSocket(url);
  await new Promise<void>((res, rej) => {
    ws.onopen = () => res();
    ws.onerror = () => rej(new Error(`cannot connect to ${url}`));
  });
  let next = 1;
  const pending = new Map<number, { res: (v: any) => void; rej: (e: Error) => void }>();
  const listeners: ((m: Message) => void)[] = [];
  ws.onmessage = (e) => {
    const m = JSON.parse(String(e.data)) as Message;
    if (m.id !== undefined) {
      const p = pending.get(m.id);
      pending.delete(m.id);
      if (m.error) p?.rej(new Error(m.error.message));
      else p?.res(m.result);
    } else for (const l of listeners) l(m);
  };
  return {
    call(method: string, params: object, sessionId?: string): Promise<any> {
      const id = next++;
      ws.send(JSON.stringify({ id, method, params, ...(sessionId ? { sessionId } : {}) }));
      return new Promise((res, rej) => pending.set(id, { res, rej }));
    },
    onEvent(l: (m: Message) => void) {
      listeners.push(l);
    },
    waitFor(method: string): Promise<Message> {
      return new Promise((res) => listeners.push((m) => m.method === method && res(m)));
    },
    close() {
      ws.close();
    },
  };
}

/** What is wrong with a rendered report: console errors, and each expected
 * chart (by id, in page order) that is missing, has no canvas or painted
 * too few coloured pixels (an axis-only chart paints none). Empty: all good. */
export function chartProblems(page: Rendered, ids: string[], minColoured = 500): string[] {
  const out = page.errors.map((e) => `error: ${e}`);
  const got = page.charts.map((c) => c.id);
  if (got.join(",") !== ids.join(",")) out.push(`charts ${got.join(",")}, expected ${ids.join(",")}`);
  for (const c of page.charts) {
    if (!c.canvas || c.width * c.height === 0) out.push(`${c.id}: no canvas`);
    else if (c.coloured < minColoured) out.push(`${c.id}: ${c.coloured} coloured pixels`);
  }
  return out;
}
