// The state both sides keep: conversations, their messages by sequence, who is typing, and the
// messages still on their way. Frames and REST answers go in; components re-render on "change".

import { Api, ApiError, newClientId } from "./api.js";
import { RealtimeClient, websocketUrl, type ConnectionState } from "./realtime.js";
import type { Conversation, ErrorBody, FrameHandlers, Message, Principal, ShownMessage, Status } from "./types.js";

interface Pending {
  ref: string;
  clientId: string;
  conversationId: string | null;
  body: string;
  attachmentIds: string[];
  shown: ShownMessage;
  timer?: number;
  busyRetries: number;
}

const ACK_TIMEOUT_MS = 15_000;
const BUSY_RETRIES = 5;
const BUSY_RETRY_MS = 500;

export interface StoreOptions {
  api: Api;
  hello: () => Record<string, unknown>;
  /** Extra frame handlers of one side (presence, pages …), called after the store's own. */
  extra?: FrameHandlers;
  /** The server refused the token or session (close 4401): sign in again. */
  onUnauthorized?: () => void;
}

export class ChatStore extends EventTarget {
  readonly conversations = new Map<string, Conversation>();
  private readonly messages = new Map<string, Map<number, Message>>();
  private readonly pending = new Map<string, Pending>();
  readonly typing = new Map<string, string | null>();
  /** Visitor: a waiting conversation's place in the queue and estimated wait (seconds). */
  readonly queuePlace = new Map<string, { position: number; waitS: number | null }>();
  private readonly typingTimers = new Map<string, number>();
  principal: Principal | null = null;
  agentsOnline = true;
  connection: ConnectionState = "offline";
  /** Connected at least once: from then on, "offline" means the connection was lost. */
  wasOpen = false;
  lastError: string | null = null;
  private readonly realtime: RealtimeClient;

  constructor(private readonly options: StoreOptions) {
    super();
    const extra = options.extra ?? {};
    const handlers: FrameHandlers = {
      ready: (f) => {
        this.wasOpen = true;
        this.principal = f.principal;
        if (f.agents_online !== undefined) this.agentsOnline = f.agents_online;
        extra.ready?.(f);
      },
      conversation: (f) => {
        this.conversations.set(f.conversation.id, f.conversation);
        extra.conversation?.(f);
      },
      message: (f) => {
        this.applyMessage(f.message, f.conversation_status);
        extra.message?.(f);
      },
      typing: (f) => {
        window.clearTimeout(this.typingTimers.get(f.conversation_id));
        if (f.typing) {
          this.typing.set(f.conversation_id, f.author_name);
          // A lost "stopped typing" must not leave the indicator on for ever.
          this.typingTimers.set(f.conversation_id, window.setTimeout(() => {
            this.typing.delete(f.conversation_id);
            this.changed();
          }, 8000));
        } else this.typing.delete(f.conversation_id);
      },
      read: (f) => {
        const conversation = this.conversations.get(f.conversation_id);
        if (!conversation) return;
        if (f.reader_kind === "visitor") conversation.visitor_read_seq = Math.max(conversation.visitor_read_seq, f.read_seq);
        else conversation.agent_read_seq = Math.max(conversation.agent_read_seq, f.read_seq);
      },
      presence: (f) => {
        if (f.agents_online !== undefined) this.agentsOnline = f.agents_online;
        extra.presence?.(f);
      },
      ack: (f) => {
        this.acknowledge(f.ref, f.ok, f.message, f.error);
        // The sending connection gets its own message here, not as a message frame.
        if (f.ok && f.message && f.conversation_status) {
          this.applyMessage(f.message, f.conversation_status);
          extra.message?.({ type: "message", seq: f.seq, message: f.message, conversation_status: f.conversation_status });
        }
      },
      heartbeat: (f) => {
        for (const [id, seq] of Object.entries(f.cursors)) {
          if (seq <= this.lastSeq(id)) continue;
          // Behind: a message frame was lost somewhere. Fetch what is missing.
          if (this.conversations.has(id)) void this.loadMessages(id);
          else void this.loadConversation(id);
        }
      },
      error: (f) => {
        console.warn("relais:", f.code, f.message);
        this.lastError = f.message;
        // A refused send answers with an error frame carrying its ref: mark that message failed.
        if (f.ref && this.pending.has(f.ref)) this.acknowledge(f.ref, false, undefined, f);
      },
      visitor_page: (f) => extra.visitor_page?.(f),
      task: (f) => extra.task?.(f),
      queue_position: (f) => {
        extra.queue_position?.(f);
        if (!f.conversation_id) return;
        this.queuePlace.set(f.conversation_id, { position: f.position, waitS: f.estimated_wait_s });
        this.changed();
      },
      callback: (f) => extra.callback?.(f),
      callback_offered: (f) => extra.callback_offered?.(f),
    };
    const wrapped: FrameHandlers = {};
    for (const [type, handler] of Object.entries(handlers)) {
      (wrapped as Record<string, (f: unknown) => void>)[type] = (frame: unknown) => {
        (handler as (f: unknown) => void)(frame);
        this.changed();
      };
    }
    this.realtime = new RealtimeClient({
      url: websocketUrl(options.api.base),
      hello: options.hello,
      cursors: () => this.cursors(),
      handlers: wrapped,
      onState: (state) => {
        this.connection = state;
        this.changed();
      },
      onReady: () => this.resendPending(),
      onError: (message) => this.reportError(message),
      onUnauthorized: () => {
        if (options.onUnauthorized) options.onUnauthorized();
        else this.reportError("Not signed in any more: reload the page.");
      },
    });
  }

  connect(): void {
    this.realtime.connect();
  }

  disconnect(): void {
    this.realtime.close();
  }

  changed(): void {
    this.dispatchEvent(new Event("change"));
  }

  cursors(): Record<string, number> {
    const out: Record<string, number> = {};
    for (const id of this.conversations.keys()) out[id] = this.lastSeq(id);
    return out;
  }

  lastSeq(conversationId: string): number {
    const byId = this.messages.get(conversationId);
    if (!byId || byId.size === 0) return 0;
    // Contiguous from 1: a hole means something is missing and must be fetched again.
    let seq = 0;
    while (byId.has(seq + 1)) seq += 1;
    return seq;
  }

  /** A new message of a conversation, and what it changes in the conversation. */
  private applyMessage(message: Message, status: Status): void {
    this.addMessage(message);
    const conversation = this.conversations.get(message.conversation_id);
    if (conversation) {
      conversation.status = status;
      conversation.last_seq = Math.max(conversation.last_seq, message.seq);
      conversation.updated_at = message.created_at;
      const kind = message.author_kind;
      if (kind === "visitor") conversation.visitor_read_seq = Math.max(conversation.visitor_read_seq, message.seq);
      if (kind === "agent") conversation.agent_read_seq = Math.max(conversation.agent_read_seq, message.seq);
    }
    this.typing.delete(message.conversation_id);
  }

  addMessage(message: Message): void {
    let byId = this.messages.get(message.conversation_id);
    if (!byId) {
      byId = new Map();
      this.messages.set(message.conversation_id, byId);
    }
    byId.set(message.seq, message);
    if (message.client_id) {
      for (const [ref, pending] of this.pending) {
        if (pending.clientId === message.client_id) this.pending.delete(ref);
      }
    }
  }

  /** Messages in order, then the ones still on their way. */
  messagesOf(conversationId: string | null): ShownMessage[] {
    const stored = conversationId ? [...(this.messages.get(conversationId)?.values() ?? [])] : [];
    stored.sort((a, b) => a.seq - b.seq);
    const shown: ShownMessage[] = stored.map((m) => ({ ...m, state: "sent" }));
    for (const pending of this.pending.values()) {
      if (pending.conversationId === conversationId || (conversationId === null && pending.conversationId === null)) {
        shown.push(pending.shown);
      }
    }
    return shown;
  }

  async loadMessages(conversationId: string): Promise<void> {
    try {
      let after = this.lastSeq(conversationId);
      for (;;) {
        const page = await this.options.api.get<Message[]>(
          `/api/v1/conversations/${conversationId}/messages?after=${after}&limit=500`,
        );
        page.forEach((m) => this.addMessage(m));
        if (page.length < 500) break;
        after = page[page.length - 1].seq;
      }
      this.changed();
    } catch (error) {
      this.fail(error);
    }
  }

  async loadConversation(conversationId: string): Promise<void> {
    try {
      const conversation = await this.options.api.get<Conversation>(`/api/v1/conversations/${conversationId}`);
      this.conversations.set(conversation.id, conversation);
      await this.loadMessages(conversationId);
    } catch (error) {
      this.fail(error);
    }
  }

  /** Shows the message at once under its client id, then sends it; resent after a reconnect. */
  send(conversationId: string | null, body: string, attachmentIds: string[] = []): void {
    const clientId = newClientId();
    const ref = newClientId();
    const now = new Date().toISOString();
    const shown: ShownMessage = {
      id: clientId, conversation_id: conversationId ?? "", seq: Number.MAX_SAFE_INTEGER, client_id: clientId,
      author_kind: this.principal?.kind ?? "visitor", author_id: this.principal?.id ?? null,
      author_name: this.principal?.name ?? null, body, html: "", attachments: [], created_at: now,
      state: "pending",
    };
    this.pending.set(ref, { ref, clientId, conversationId, body, attachmentIds, shown, busyRetries: 0 });
    this.transmit(ref);
    this.changed();
  }

  retry(clientId: string): void {
    for (const pending of this.pending.values()) {
      if (pending.clientId === clientId) {
        pending.shown.state = "pending";
        pending.shown.error = null;
        this.transmit(pending.ref);
      }
    }
    this.changed();
  }

  sendTyping(conversationId: string, typing: boolean): void {
    this.realtime.send({ type: "typing", conversation_id: conversationId, typing });
  }

  /** Tells the other side how far this one has read (once per new message, not per render). */
  markRead(conversationId: string): void {
    const conversation = this.conversations.get(conversationId);
    if (!conversation) return;
    const seq = this.lastSeq(conversationId);
    const agent = this.principal?.kind === "agent";
    const mine = agent ? conversation.agent_read_seq : conversation.visitor_read_seq;
    if (seq <= mine || !this.realtime.send({ type: "read", conversation_id: conversationId, seq })) return;
    // The server tells only the other side: keep our own read position here.
    if (agent) conversation.agent_read_seq = seq;
    else conversation.visitor_read_seq = seq;
    this.changed();
  }

  /** Visitor: the page it is on. False when not connected (to be sent after the next hello). */
  sendPage(url: string, title: string): boolean {
    return this.realtime.send({ type: "page", url, title });
  }

  private transmit(ref: string): void {
    const pending = this.pending.get(ref);
    if (!pending) return;
    const sent = this.realtime.send({
      type: "send", ref, conversation_id: pending.conversationId, client_id: pending.clientId,
      body: pending.body, attachment_ids: pending.attachmentIds,
    });
    // Not sent now (offline): resendPending runs after the next hello. Sent but never answered
    // on a connection that stays up: failed, with a retry button (same client id, no double).
    window.clearTimeout(pending.timer);
    if (sent) {
      pending.timer = window.setTimeout(() => {
        if (this.pending.get(ref) === pending && pending.shown.state === "pending" && this.connection === "open") {
          pending.shown.state = "failed";
          pending.shown.error = null;
          this.changed();
        }
      }, ACK_TIMEOUT_MS);
    }
  }

  private resendPending(): void {
    for (const ref of this.pending.keys()) {
      const pending = this.pending.get(ref);
      if (pending && pending.shown.state === "pending") this.transmit(ref);
    }
  }

  private acknowledge(
    ref: string | null, ok: boolean, message?: Message, error?: ErrorBody,
  ): void {
    if (!ref) return;
    const pending = this.pending.get(ref);
    if (!pending) return;
    if (ok && message) {
      this.pending.delete(ref);
      if (!this.conversations.has(message.conversation_id)) void this.loadConversation(message.conversation_id);
      this.addMessage(message);
    } else if (error?.code === "busy" && pending.busyRetries < BUSY_RETRIES) {
      // The server had too many of our frames at once: the same send again shortly (same client
      // id, so it never doubles), before showing it failed.
      pending.busyRetries += 1;
      window.setTimeout(() => this.transmit(ref), BUSY_RETRY_MS * pending.busyRetries);
    } else {
      // The reason shows under the message itself, beside its retry button.
      pending.shown.state = "failed";
      pending.shown.error = error?.message ?? null;
    }
  }

  /** Errors end up here and in `lastError`, which both sides show until dismissed. */
  reportError(message: string): void {
    this.lastError = message;
    this.changed();
  }

  clearError(): void {
    this.lastError = null;
    this.changed();
  }

  private fail(error: unknown): void {
    console.error("relais:", error);
    this.reportError(error instanceof ApiError ? error.message : String(error));
  }
}
