// What the `*.test.ts` files share: they run in a real Chromium (tests/e2e/test_units_e2e.py
// bundles each one with esbuild, opens it on an empty page and calls `window.relaisTests.run()`).
// REST is answered by `stubFetch`, the WebSocket by `FakeSocket`: no server is involved.

export type TestCase = () => void | Promise<void>;
export interface TestResult {
  name: string;
  ok: boolean;
  error?: string;
}

const cases: [string, TestCase][] = [];
const cleanups: (() => void)[] = [];

/** Registers a test; its name states the behaviour. */
export function test(name: string, fn: TestCase): void {
  cases.push([name, fn]);
}

/** Runs at the end of the current test, whatever its outcome. */
export function onCleanup(fn: () => void): void {
  cleanups.push(fn);
}

export function ok(value: unknown, message = "expected a true value"): asserts value {
  if (!value) throw new Error(message);
}

/** Deep equality by JSON, with both sides in the message. */
export function equal(actual: unknown, expected: unknown, message = ""): void {
  const a = JSON.stringify(actual);
  const e = JSON.stringify(expected);
  if (a !== e) throw new Error(`${message ? `${message}: ` : ""}expected ${e}, got ${a}`);
}

/** The one way to wait for something asynchronous: polls until `probe` gives a truthy value. */
export async function waitFor<T>(probe: () => T | null | undefined | false, what: string, timeoutMs = 3000): Promise<T> {
  const end = performance.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const value = probe();
      if (value) return value;
    } catch (error) {
      last = error;
    }
    if (performance.now() > end) throw new Error(`timed out waiting for ${what}${last ? ` (${String(last)})` : ""}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** The element found by a CSS selector through open shadow roots, from `root` down. */
export function deepQuery<E extends Element = HTMLElement>(selector: string, root: ParentNode = document): E | null {
  const direct = root.querySelector<E>(selector);
  if (direct) return direct;
  for (const el of root.querySelectorAll("*")) {
    if (el.shadowRoot) {
      const found = deepQuery<E>(selector, el.shadowRoot);
      if (found) return found;
    }
  }
  return null;
}

export function deepQueryAll<E extends Element = HTMLElement>(selector: string, root: ParentNode = document): E[] {
  const out = [...root.querySelectorAll<E>(selector)];
  for (const el of root.querySelectorAll("*")) {
    if (el.shadowRoot) out.push(...deepQueryAll<E>(selector, el.shadowRoot));
  }
  return out;
}

export interface FetchCall {
  method: string;
  path: string;
  headers: Record<string, string>;
  body: unknown;
}
export type Reply = { status?: number; body?: unknown } | Promise<{ status?: number; body?: unknown }>;
export type Route = (call: FetchCall) => Reply;

/**
 * Answers `fetch` from routes keyed "METHOD /path" (query string included when the key has one,
 * otherwise ignored). An unrouted call answers 599 and fails the test at its end.
 */
export function stubFetch(routes: Record<string, Route>): FetchCall[] {
  const calls: FetchCall[] = [];
  const unrouted: string[] = [];
  const original = window.fetch;
  window.fetch = async (input: RequestInfo | URL, init?: RequestInit) => {
    const url = new URL(String(input), window.location.href);
    const method = (init?.method ?? "GET").toUpperCase();
    const headers = Object.fromEntries(new Headers(init?.headers).entries());
    const text = typeof init?.body === "string" ? init.body : undefined;
    const call: FetchCall = { method, path: url.pathname + url.search, headers, body: text ? JSON.parse(text) : undefined };
    calls.push(call);
    const route = routes[`${method} ${url.pathname}${url.search}`] ?? routes[`${method} ${url.pathname}`];
    if (!route) {
      unrouted.push(`${method} ${call.path}`);
      return new Response(JSON.stringify({ error: { code: "unrouted", message: "no route in the test" } }), { status: 599 });
    }
    const reply = await route(call);
    const status = reply.status ?? 200;
    return new Response(status === 204 ? null : JSON.stringify(reply.body ?? {}), {
      status,
      headers: { "Content-Type": "application/json" },
    });
  };
  onCleanup(() => {
    window.fetch = original;
    if (unrouted.length) throw new Error(`calls no route answered: ${unrouted.join(", ")}`);
  });
  return calls;
}

/** A WebSocket that the test drives: `FakeSocket.last().serve(frame)` delivers a server frame. */
export class FakeSocket extends EventTarget {
  static readonly CONNECTING = 0;
  static readonly OPEN = 1;
  static readonly CLOSING = 2;
  static readonly CLOSED = 3;
  static instances: FakeSocket[] = [];
  readonly CONNECTING = 0;
  readonly OPEN = 1;
  readonly CLOSING = 2;
  readonly CLOSED = 3;
  readyState = 0;
  sent: Record<string, unknown>[] = [];
  onopen: ((e: Event) => void) | null = null;
  onmessage: ((e: MessageEvent<string>) => void) | null = null;
  onclose: ((e: CloseEvent) => void) | null = null;
  onerror: ((e: Event) => void) | null = null;
  private seq = 0;

  constructor(readonly url: string) {
    super();
    FakeSocket.instances.push(this);
    setTimeout(() => {
      this.readyState = 1;
      this.onopen?.(new Event("open"));
    }, 0);
  }

  static install(): void {
    const original = window.WebSocket;
    FakeSocket.instances = [];
    window.WebSocket = FakeSocket as unknown as typeof WebSocket;
    onCleanup(() => {
      window.WebSocket = original;
    });
  }

  static last(): FakeSocket {
    const socket = FakeSocket.instances[FakeSocket.instances.length - 1];
    ok(socket, "no WebSocket was opened");
    return socket;
  }

  send(data: string): void {
    this.sent.push(JSON.parse(data) as Record<string, unknown>);
  }

  close(code = 1000): void {
    if (this.readyState === 3) return;
    this.readyState = 3;
    this.onclose?.(new CloseEvent("close", { code }));
  }

  /** A server frame, numbered in order as the gateway does. */
  serve(frame: Record<string, unknown>): void {
    this.onmessage?.(new MessageEvent("message", { data: JSON.stringify({ seq: this.seq++, ...frame }) }));
  }

  /** The server's answer to the hello. */
  ready(principal: Record<string, unknown>): void {
    this.serve({ type: "ready", principal, heartbeat_s: 30 });
  }
}

/** Mounts an element for one test; it is removed at the test's end. */
export function mount<E extends HTMLElement>(element: E): E {
  document.body.append(element);
  onCleanup(() => element.remove());
  return element;
}

async function run(): Promise<TestResult[]> {
  const results: TestResult[] = [];
  for (const [name, fn] of cases) {
    let error: unknown = null;
    try {
      await fn();
    } catch (e) {
      error = e;
    }
    // Cleanups in reverse order; a failing one fails the test (unless it already failed).
    for (const cleanup of cleanups.splice(0).reverse()) {
      try {
        cleanup();
      } catch (e) {
        error ??= e;
      }
    }
    results.push(error === null ? { name, ok: true } : { name, ok: false, error: error instanceof Error ? error.stack ?? error.message : String(error) });
  }
  return results;
}

declare global {
  interface Window {
    relaisTests?: { run: () => Promise<TestResult[]>; names: () => string[] };
  }
}

window.relaisTests = { run, names: () => cases.map(([name]) => name) };
