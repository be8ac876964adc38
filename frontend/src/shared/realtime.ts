// One WebSocket per client, shared by the widget and the desk (docs/api.md, "The WebSocket").
// It reconnects with back-off and jitter, and resumes from the cursors the store gives it.

import type { FrameHandlers, ServerFrame } from "./types.js";

export type ConnectionState = "connecting" | "open" | "offline";

export interface RealtimeOptions {
  url: string;
  /** Fields of the hello frame besides type and cursors (a visitor's token). */
  hello: () => Record<string, unknown>;
  cursors: () => Record<string, number>;
  handlers: FrameHandlers;
  onState: (state: ConnectionState) => void;
  /** Called after every successful hello: the place to re-send what is still pending. */
  onReady: () => void;
  /** Something went wrong that the user should know about (never swallowed). */
  onError: (message: string) => void;
  /** Closed with 4401: the token or session is gone. */
  onUnauthorized: () => void;
}

export class RealtimeClient {
  private socket: WebSocket | null = null;
  private lastSeq = -1;
  private attempt = 0;
  private stopped = false;
  private timer: number | undefined;
  state: ConnectionState = "offline";

  constructor(private readonly options: RealtimeOptions) {}

  connect(): void {
    this.stopped = false;
    this.open();
  }

  close(): void {
    this.stopped = true;
    window.clearTimeout(this.timer);
    this.socket?.close(1000);
    this.socket = null;
  }

  /** Sends a frame if the socket is open; returns false when it is not. */
  send(frame: Record<string, unknown>): boolean {
    if (this.socket?.readyState !== WebSocket.OPEN || this.state !== "open") return false;
    this.socket.send(JSON.stringify(frame));
    return true;
  }

  private setState(state: ConnectionState): void {
    this.state = state;
    this.options.onState(state);
  }

  private open(): void {
    this.setState("connecting");
    const socket = new WebSocket(this.options.url);
    this.socket = socket;
    this.lastSeq = -1;
    socket.onopen = () => {
      socket.send(JSON.stringify({ type: "hello", cursors: this.options.cursors(), ...this.options.hello() }));
    };
    socket.onmessage = (event: MessageEvent<string>) => this.receive(socket, event.data);
    socket.onclose = (event) => {
      if (this.socket !== socket) return;
      this.socket = null;
      this.setState("offline");
      // 4401: the session or token is gone; 4403: this site may not use the chat. Retrying
      // would not help: say so instead.
      if (event.code === 4401) this.options.onUnauthorized();
      else if (event.code === 4403) this.options.onError("This site is not allowed to use the chat.");
      else if (!this.stopped) this.retry();
    };
  }

  private receive(socket: WebSocket, raw: string): void {
    let frame: ServerFrame;
    try {
      frame = JSON.parse(raw) as ServerFrame;
    } catch {
      console.error("relais: undecodable frame", raw);
      this.options.onError("The server sent something unreadable; reconnecting.");
      socket.close(4000, "undecodable");
      return;
    }
    if (frame.seq !== this.lastSeq + 1) {
      // A gap means frames were lost: start again from the store.
      console.warn(`relais: frame ${frame.seq} after ${this.lastSeq}; resuming`);
      socket.close(4000, "gap");
      return;
    }
    this.lastSeq = frame.seq;
    if (frame.type === "ready") {
      this.attempt = 0;
      this.setState("open");
    }
    const handler = this.options.handlers[frame.type] as ((f: ServerFrame) => void) | undefined;
    try {
      handler?.(frame);
    } catch (error) {
      console.error("relais: frame handler failed", frame.type, error);
      this.options.onError(`Could not apply a ${frame.type} frame: ${String(error)}`);
    }
    if (frame.type === "ready") this.options.onReady();
  }

  private retry(): void {
    const delay = Math.min(30_000, 500 * 2 ** this.attempt) * (0.5 + Math.random() / 2);
    this.attempt += 1;
    this.timer = window.setTimeout(() => this.open(), delay);
  }
}

export function websocketUrl(base: string): string {
  const url = new URL("/ws", base || window.location.href);
  url.protocol = url.protocol === "https:" ? "wss:" : "ws:";
  return url.toString();
}
