import { LitElement, html, nothing } from "lit";
import { Api, ApiError } from "../shared/api.js";
import { ChatStore } from "../shared/chat-store.js";
import "../shared/composer/composer.js";
import type { SendDetail } from "../shared/composer/composer.js";
import "../shared/conversation-view/conversation-view.js";
import { pageLang, strings } from "../shared/i18n.js";
import { StoreController } from "../shared/store-controller.js";
import type { AgentInfo, Attachment, Context, Conversation } from "../shared/types.js";
import "./contact-panel.js";
import { styles } from "./desk.styles.js";
import "./login-form.js";

interface Login {
  agent: AgentInfo;
  csrf_token: string;
}

/**
 * The agent desk: the agent's conversations, the same conversation view and composer as the
 * widget (in mirror), and the customer's panel.
 */
export class RelaisDesk extends LitElement {
  static override styles = styles;
  static override properties = {
    agent: { state: true },
    selected: { state: true },
    context: { state: true },
    toasts: { state: true },
    error: { state: true },
    checked: { state: true },
  };

  agent: AgentInfo | null = null;
  selected: string | null = null;
  context: Context | null = null;
  toasts: { id: number; text: string }[] = [];
  error: string | null = null;
  checked = false;

  private csrf: string | null = null;
  private readonly strings = strings(pageLang());
  private readonly api = new Api({ base: "", csrf: () => this.csrf });
  private readonly store = new ChatStore({
    api: this.api,
    hello: () => ({}),
    extra: {
      conversation: (f) => {
        const c = f.conversation;
        if (f.reason === "created" || f.reason === "assigned") {
          if (!c.assignee_id || c.assignee_id === this.agent?.id) this.notify(c);
        }
      },
      visitor_page: (f) => {
        if (f.conversation_id === this.selected) void this.loadContext(f.conversation_id);
      },
    },
  });

  constructor() {
    super();
    new StoreController(this, this.store);
  }

  override connectedCallback(): void {
    super.connectedCallback();
    void this.resume();
  }

  private async resume(): Promise<void> {
    try {
      const me = await this.api.get<Login>("/api/v1/auth/me");
      this.signedIn(me);
    } catch {
      this.agent = null;
    }
    this.checked = true;
  }

  private signedIn(login: Login): void {
    this.agent = login.agent;
    this.csrf = login.csrf_token;
    this.store.connect();
    if ("Notification" in window && Notification.permission === "default") void Notification.requestPermission();
  }

  private async loggedIn(e: CustomEvent<Login>): Promise<void> {
    this.signedIn(e.detail);
    // Logging in means being ready to take conversations.
    await this.setPresence("available");
  }

  private async setPresence(presence: string): Promise<void> {
    try {
      this.agent = await this.api.put<AgentInfo>("/api/v1/agents/me/presence", { presence });
    } catch (error) {
      this.error = error instanceof ApiError ? error.message : String(error);
    }
  }

  private async logout(): Promise<void> {
    await this.api.post("/api/v1/auth/logout").catch(() => undefined);
    this.store.disconnect();
    this.agent = null;
    this.selected = null;
  }

  private mine(): Conversation[] {
    const id = this.agent?.id;
    return [...this.store.conversations.values()]
      .filter((c) => c.status !== "resolved" || c.id === this.selected)
      .filter((c) => c.assignee_id === id || c.assignee_id === null || this.agent?.role !== "agent")
      .sort((a, b) => b.updated_at.localeCompare(a.updated_at));
  }

  /** The customer's messages the agent has not read (system notes do not count). */
  private unread(c: Conversation): number {
    return this.store.messagesOf(c.id).filter((m) => m.author_kind === "visitor" && m.seq > c.agent_read_seq).length;
  }

  private notify(c: Conversation): void {
    const text = this.strings.newConversationToast(c.contact_name ?? this.strings.anonymous);
    const id = Date.now() + Math.random();
    this.toasts = [...this.toasts, { id, text }];
    setTimeout(() => (this.toasts = this.toasts.filter((t) => t.id !== id)), 6000);
    if ("Notification" in window && Notification.permission === "granted" && document.hidden) {
      new Notification("Relais", { body: text });
    }
  }

  override updated(): void {
    const unread = this.mine().reduce((n, c) => n + (this.unread(c) > 0 ? 1 : 0), 0);
    document.title = unread ? `(${unread}) ${this.strings.deskTitle}` : this.strings.deskTitle;
    if (this.selected && document.visibilityState === "visible") this.store.markRead(this.selected);
  }

  private async select(id: string): Promise<void> {
    this.selected = id;
    this.context = null;
    await Promise.all([this.store.loadMessages(id), this.loadContext(id)]);
  }

  private async loadContext(id: string): Promise<void> {
    try {
      this.context = await this.api.get<Context>(`/api/v1/conversations/${id}/context`);
    } catch (error) {
      this.error = error instanceof ApiError ? error.message : String(error);
    }
  }

  private async resolve(id: string): Promise<void> {
    try {
      const c = await this.api.post<Conversation>(`/api/v1/conversations/${id}/resolve`);
      this.store.conversations.set(c.id, c);
      this.store.changed();
    } catch (error) {
      this.error = error instanceof ApiError ? error.message : String(error);
    }
  }

  private async send(id: string, detail: SendDetail): Promise<void> {
    const attachmentIds: string[] = [];
    try {
      for (const file of detail.files) {
        const form = new FormData();
        form.append("conversation_id", id);
        form.append("file", file);
        attachmentIds.push((await this.api.request<{ id: string }>("POST", "/api/v1/attachments", form)).id);
      }
    } catch (error) {
      this.error = error instanceof ApiError ? error.message : String(error);
      return;
    }
    this.store.send(id, detail.body, attachmentIds);
  }

  override render() {
    const s = this.strings;
    if (!this.checked) return nothing;
    if (!this.agent) return html`<relais-login-form .strings=${s} @relais-login=${this.loggedIn}></relais-login-form>`;
    const agent = this.agent;
    return html`
      <header>
        <h1>${s.deskTitle}</h1>
        <span><span class="dot ${agent.presence}"></span>${agent.name}</span>
        <select data-testid="presence" aria-label="Presence" .value=${agent.presence}
          @change=${(e: Event) => void this.setPresence((e.target as HTMLSelectElement).value)}>
          <option value="available">${s.available}</option>
          <option value="away">${s.away}</option>
        </select>
        <button @click=${this.logout}>${s.logout}</button>
      </header>
      ${this.store.connection !== "open" ? html`<div class="status" role="status">${s.reconnecting}</div>` : nothing}
      ${this.error ? html`<div class="status" role="alert">${this.error}</div>` : nothing}
      <main>
        <nav aria-label=${s.conversations}>
          <h2>${s.conversations}</h2>
          ${this.renderList()}
        </nav>
        <section class="center">${this.renderConversation()}</section>
        <relais-contact-panel .context=${this.context} .strings=${s}></relais-contact-panel>
      </main>
      <div class="toasts" aria-live="polite">${this.toasts.map((t) => html`<div class="toast">${t.text}</div>`)}</div>
    `;
  }

  private renderList() {
    const s = this.strings;
    const list = this.mine();
    if (!list.length) return html`<p class="preview" style="padding: 0 14px">${s.noConversations}</p>`;
    return html`<ul>${list.map((c) => {
      const shown = this.store.messagesOf(c.id);
      const last = shown[shown.length - 1];
      const unread = this.unread(c);
      return html`<li><button data-testid="conversation-item" data-conversation-id=${c.id}
        aria-current=${c.id === this.selected ? "true" : "false"} @click=${() => void this.select(c.id)}>
        <span class="who">${c.contact_name ?? s.anonymous}</span>
        ${unread ? html`<span class="badge" aria-label="unread">${unread}</span>` : html`<span></span>`}
        ${c.assignee_id === null ? html`<span class="tag">${s.waiting}</span>` : nothing}
        <span class="preview">${last?.body ?? ""}</span>
      </button></li>`;
    })}</ul>`;
  }

  private renderConversation() {
    const s = this.strings;
    const c = this.selected ? this.store.conversations.get(this.selected) : undefined;
    if (!c) return html`<p class="placeholder">${s.pickConversation}</p>`;
    const resolved = c.status === "resolved";
    return html`
      <div class="toolbar">
        <strong>${c.contact_name ?? s.anonymous}</strong>
        ${resolved ? html`<span>${s.resolved}</span>` : html`<button data-testid="resolve" @click=${() => void this.resolve(c.id)}>${s.resolve}</button>`}
      </div>
      <relais-conversation-view .messages=${this.store.messagesOf(c.id)} me="agent" .strings=${s}
        .otherReadSeq=${c.visitor_read_seq}
        .typingName=${this.store.typing.has(c.id) ? this.store.typing.get(c.id) : undefined}
        @relais-retry=${(e: CustomEvent<{ clientId: string }>) => this.store.retry(e.detail.clientId)}
        @relais-download=${(e: CustomEvent<{ attachment: Attachment }>) => window.open(e.detail.attachment.url, "_blank", "noopener")}>
      </relais-conversation-view>
      ${resolved
        ? nothing
        : html`<relais-composer .strings=${s} @relais-send=${(e: CustomEvent<SendDetail>) => void this.send(c.id, e.detail)}
            @relais-typing=${(e: CustomEvent<{ typing: boolean }>) => this.store.sendTyping(c.id, e.detail.typing)}></relais-composer>`}
    `;
  }
}

customElements.define("relais-desk", RelaisDesk);
