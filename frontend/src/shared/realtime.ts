// One WebSocket per client, shared by the widget and the desk (docs/api.md, "The WebSocket").
// It checks the server's frame sequence (a gap means frames were lost: reconnect), notices a
// silent connection by the missing heartbeats, reconnects with exponential back-off and jitter,
// and resumes from the cursors the store gives it.

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

const MAX_DELAY_MS = 30_000;
/** Heartbeats missed before the connection is taken for dead. */
const MISSED_HEARTBEATS = 2.5;

export class RealtimeClient {
  private socket: WebSocket | null = null;
  private lastSeq = -1;
  private attempt = 0;
  private stopped = true;
  private retryTimer: number | undefined;
  private silenceTimer: number | undefined;
  private silenceMs = 0;
  state: ConnectionState = "offline";

  constructor(private readonly options: RealtimeOptions) {}

  connect(): void {
    if (this.stopped) window.addEventListener("online", this.onOnline);
    this.stopped = false;
    this.open();
  }

  close(): void {
    this.stopped = true;
    window.removeEventListener("online", this.onOnline);
    window.clearTimeout(this.retryTimer);
    window.clearTimeout(this.silenceTimer);
    const socket = this.socket;
    this.socket = null;
    socket?.close(1000);
    if (this.state !== "offline") this.setState("offline");
  }

  /** Sends a frame if the connection is ready; returns false when it is not. */
  send(frame: Record<string, unknown>): boolean {
    if (this.socket?.readyState !== WebSocket.OPEN || this.state !== "open") return false;
    this.socket.send(JSON.stringify(frame));
    return true;
  }

  /** The network is back: do not wait for the rest of the back-off. */
  private readonly onOnline = (): void => {
    if (!this.stopped && !this.socket) {
      window.clearTimeout(this.retryTimer);
      this.open();
    }
  };

  private setState(state: ConnectionState): void {
    this.state = state;
    this.options.onState(state);
  }

  private open(): void {
    window.clearTimeout(this.retryTimer);
    this.setState("connecting");
    const socket = new WebSocket(this.options.url);
    this.socket = socket;
    this.lastSeq = -1;
    socket.onopen = () => {
      socket.send(JSON.stringify({ type: "hello", cursors: this.options.cursors(), ...this.options.hello() }));
    };
    socket.onmessage = (event: MessageEvent<string>) => this.receive(socket, event.data);
    socket.onclose = (event) => this.closed(socket, event.code);
  }

  /** Gives up on a socket (gap, silence, close) and schedules the next attempt. */
  private closed(socket: WebSocket, code: number): void {
    if (this.socket !== socket) return;
    this.socket = null;
    window.clearTimeout(this.silenceTimer);
    this.setState("offline");
    // 4401: the session or token is gone; 4403: this site may not use the chat. Retrying
    // would not help: say so instead.
    if (code === 4401) this.options.onUnauthorized();
    else if (code === 4403) this.options.onError("This site is not allowed to use the chat.");
    else if (!this.stopped) this.retry();
  }

  private drop(socket: WebSocket, reason: string): void {
    console.warn(`relais: ${reason}; reconnecting`);
    socket.close(4000, reason.slice(0, 100));
    // Do not wait for the closing handshake of a connection that may be dead.
    this.closed(socket, 4000);
  }

  private receive(socket: WebSocket, raw: string): void {
    if (this.socket !== socket) return;
    let frame: ServerFrame;
    try {
      frame = JSON.parse(raw) as ServerFrame;
    } catch {
      this.options.onError("The server sent something unreadable; reconnecting.");
      this.drop(socket, "undecodable frame");
      return;
    }
    if (frame.seq !== this.lastSeq + 1) {
      // A gap means frames were lost: start again from the store, with the cursors.
      this.drop(socket, `frame ${frame.seq} after ${this.lastSeq}`);
      return;
    }
    this.lastSeq = frame.seq;
    if (frame.type === "ready") {
      this.attempt = 0;
      this.silenceMs = frame.heartbeat_s * 1000 * MISSED_HEARTBEATS;
      this.setState("open");
    }
    this.watchSilence(socket);
    const handler = this.options.handlers[frame.type] as ((f: ServerFrame) => void) | undefined;
    try {
      handler?.(frame);
    } catch (error) {
      console.error("relais: frame handler failed", frame.type, error);
      this.options.onError(`Could not apply a ${frame.type} frame: ${String(error)}`);
    }
    if (frame.type === "ready") this.options.onReady();
  }

  /** No frame, not even a heartbeat, for a while: the connection is dead without knowing it. */
  private watchSilence(socket: WebSocket): void {
    window.clearTimeout(this.silenceTimer);
    if (this.silenceMs > 0) {
      this.silenceTimer = window.setTimeout(() => this.drop(socket, "no heartbeat"), this.silenceMs);
    }
  }

  private retry(): void {
    const delay = Math.min(MAX_DELAY_MS, 500 * 2 ** this.attempt) * (0.5 + Math.random() / 2);
    this.attempt += 1;
    this.retryTimer = window.setTimeout(() => this.open(), delay);
  }
}

export function websocketUrl(base: string): string {
  const url = new URL("/ws", base || window.location.href);
  url.protocol = url.protocol === "https:" ? "wss:" : "ws:";
  return url.toString();
}
