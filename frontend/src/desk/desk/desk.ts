import { LitElement, html, nothing } from "lit";
import { keyed } from "lit/directives/keyed.js";
import { repeat } from "lit/directives/repeat.js";
import { Api, ApiError, errorText, uploadFiles } from "../../shared/api.js";
import { ChatStore } from "../../shared/chat-store.js";
import "../../shared/composer/composer.js";
import type { SendDetail, TypingDetail } from "../../shared/composer/composer.js";
import "../../shared/conversation-view/conversation-view.js";
import type { RetryDetail } from "../../shared/conversation-view/conversation-view.js";
import { pageLang, strings } from "../../shared/i18n.js";
import { StoreController } from "../../shared/store-controller.js";
import type { AgentInfo, Context, Conversation, Task, TaskChannel } from "../../shared/types.js";
import { TaskStore } from "../../shared/task-store.js";
import "../offer-card/offer-card.js";
import type { TaskDetail, TaskIdDetail } from "../offer-card/offer-card.js";
import "../contact-panel/contact-panel.js";
import "../callback-panel/callback-panel.js";
import "../mail-view/mail-view.js";
import { MailThreads } from "../mail-view/mail-threads.js";
import "../suggestions/suggestions.js";
import type { SuggestionDetail } from "../suggestions/suggestions.js";
import { bubbleIcon, mailIcon } from "../../shared/icons.js";
import { styles } from "./desk.styles.js";
import "../login-form/login-form.js";

interface Login {
  agent: AgentInfo;
  csrf_token: string;
}

/**
 * The agent desk: the agent's conversations, the same conversation view and composer as the
 * widget (in mirror), and the customer's panel. New conversations are announced by a toast,
 * the page title's count of unread conversations, and a browser notification when allowed.
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
    busy: { state: true },
    notice: { state: true },
  };

  agent: AgentInfo | null = null;
  selected: string | null = null;
  context: Context | null = null;
  toasts: { id: number; text: string; conversationId: string }[] = [];
  error: string | null = null;
  checked = false;
  busy = false;
  notice: string | null = null;

  private csrf: string | null = null;
  private readonly strings = strings(pageLang());
  // Double submit: the relais_csrf cookie's value, or the token login and /me returned.
  private readonly api = new Api({ base: "", csrf: () => cookie("relais_csrf") ?? this.csrf });
  /** The ACD's tasks: this agent's offers and wrap-ups (docs/api.md, "task" frames). */
  private readonly tasks = new TaskStore();
  /** E-mail conversations' mail: envelopes, reply subject, answers' states. */
  private readonly mail = new MailThreads(this.api, (text) => this.store.reportError(text));
  /** Offers (id:version) that lapsed or were refused as gone: hidden before their frame comes. */
  private readonly goneOffers = new Set<string>();
  /** Offers the agent accepted in this tab (by click or key): their conversation opens. */
  private readonly acceptedHere = new Set<string>();
  /** The conversation of an offer just accepted: selected as soon as it is here. */
  private opening: string | null = null;
  private lastOfferLapsed = 0;
  private readonly store = new ChatStore({
    api: this.api,
    hello: () => ({}),
    extra: {
      ready: () => void this.syncTasks(),
      task: (f) => this.tasks.applyFrame(f),
      presence: (f) => this.ownPresence(f.agent_id, f.presence),
      conversation: (f) => {
        const c = f.conversation;
        // Selected before its conversation was known (an offer accepted): its mail is read now.
        if (c.id === this.selected && c.channel === "email" && !this.mail.get(c.id)) void this.mail.load(c.id);
        if (c.id === this.opening) {
          this.opening = null;
          void this.select(c.id);
          return;
        }
        // A conversation that comes through an offer was announced by its offer card.
        const offered = this.tasks.all().some((t) => t.conversation_id === c.id && t.agent_id === this.agent?.id);
        if ((f.reason === "created" || f.reason === "assigned") && !offered) {
          if (!c.assignee_id || c.assignee_id === this.agent?.id) this.notify(c);
        }
      },
      visitor_page: (f) => {
        if (f.conversation_id === this.selected) void this.loadContext(f.conversation_id);
      },
      message: (f) => {
        // A mail came in or an answer was stored: its envelope and state are read again.
        const id = f.message.conversation_id;
        if (id === this.selected && this.store.conversations.get(id)?.channel === "email") void this.mail.load(id);
      },
    },
    // The session ended (expired, or logged out elsewhere): back to the login form.
    onUnauthorized: () => this.signedOut(),
  });

  constructor() {
    super();
    new StoreController(this, this.store);
    this.tasks.addEventListener("change", () => this.requestUpdate());
    this.mail.addEventListener("change", () => this.requestUpdate());
    this.tasks.addEventListener("task", (e) => {
      const { task, previous, command } = e.detail;
      if (command === "expire" && previous?.agent_id === this.agent?.id) this.lastOfferLapsed = Date.now();
      if (previous) this.goneOffers.delete(`${previous.id}:${previous.version}`);
      // Accepted (here, by the answer or its frame, whichever comes first; in another tab; or
      // given at once by an auto-accept queue). Opened if the agent accepted it here or works
      // on nothing else; otherwise announced: a conversation is never swapped under their eyes.
      const accepted = task.state === "assigned" && previous?.state === "reserved";
      if (accepted && task.agent_id === this.agent?.id && task.conversation_id) {
        if (this.acceptedHere.delete(task.id) || !this.working()) this.open(task.conversation_id);
        else this.announce(task.conversation_id);
      }
    });
  }

  override connectedCallback(): void {
    super.connectedCallback();
    void this.resume();
  }

  /** A session from before (a reload): resumed; otherwise (401) the login form. */
  private async resume(): Promise<void> {
    try {
      // docs/api.md says an Agent; the server also gives the CSRF token ({agent, csrf_token}).
      const me = await this.api.get<Login | AgentInfo>("/api/v1/auth/me");
      this.signedIn("agent" in me ? me : { agent: me, csrf_token: "" });
    } catch (error) {
      this.agent = null;
      if (!(error instanceof ApiError && error.status === 401)) this.error = errorText(error);
    }
    this.checked = true;
  }

  private signedIn(login: Login): void {
    this.agent = login.agent;
    this.csrf = login.csrf_token;
    this.store.connect();
    void this.loadList();
  }

  private signedOut(): void {
    this.store.disconnect();
    this.mail.stop();
    this.agent = null;
    this.selected = null;
    this.context = null;
  }

  /** The list as REST knows it; `conversation` frames keep it current afterwards. */
  private async loadList(): Promise<void> {
    try {
      const list = await this.api.get<Conversation[]>("/api/v1/conversations?status=active&limit=200");
      for (const c of list) {
        const known = this.store.conversations.get(c.id);
        if (!known || known.updated_at <= c.updated_at) this.store.conversations.set(c.id, c);
        // Previews and unread counts need the messages; the hello replay usually brings them.
        if (c.last_seq > 0 && this.store.lastSeq(c.id) === 0) void this.store.loadMessages(c.id);
      }
      this.store.changed();
    } catch (error) {
      this.store.reportError(errorText(error));
    }
  }

  private async askNotifications(): Promise<void> {
    await Notification.requestPermission();
    this.requestUpdate();
  }

  private async loggedIn(e: CustomEvent<Login>): Promise<void> {
    this.signedIn(e.detail);
    // Logging in means being ready to take conversations.
    await this.setPresence("available");
  }

  private async setPresence(presence: string): Promise<void> {
    this.notice = null;
    try {
      this.agent = await this.api.put<AgentInfo>("/api/v1/agents/me/presence", { presence });
    } catch (error) {
      this.error = errorText(error);
    }
  }

  private async logout(): Promise<void> {
    try {
      await this.api.post("/api/v1/auth/logout");
    } catch (error) {
      // The session is left to expire; this browser forgets it either way.
      console.warn("relais: logout", error);
    }
    this.signedOut();
  }

  /** After each hello: own live tasks by REST, so that those that ended meanwhile go away. */
  private async syncTasks(): Promise<void> {
    const states = ["reserved", "assigned", "wrap_up"] as const;
    const since = this.tasks.mark();
    try {
      const list = await this.api.get<Task[]>(`/api/v1/tasks?${states.map((s) => `state=${s}`).join("&")}`);
      this.tasks.reconcile(list, states, since);
      this.tasks.prune();
    } catch (error) {
      this.store.reportError(errorText(error));
    }
  }

  /** The ACD may set this agent away (offers unanswered); a supervisor may too. */
  private ownPresence(agentId: string | undefined, presence: string | undefined): void {
    if (!this.agent || agentId !== this.agent.id || !presence || presence === this.agent.presence) return;
    const lapsed = presence === "away" && Date.now() - this.lastOfferLapsed < 60_000;
    this.agent = { ...this.agent, presence: presence as AgentInfo["presence"] };
    this.notice = lapsed ? this.strings.awayAfterMissed : null;
  }

  /** Selects the conversation of an offer just accepted, as soon as it is here. */
  private open(id: string): void {
    const known = this.store.conversations.get(id);
    if (known && known.assignee_id === this.agent?.id) {
      void this.select(id);
      return;
    }
    // Its conversation frame is on its way; should it be lost, REST has the conversation.
    this.opening = id;
    setTimeout(() => {
      if (this.opening !== id) return;
      this.opening = null;
      void this.store.loadConversation(id).then(() => this.select(id));
    }, 3000);
  }

  /** The agent has an open conversation on screen (a resolved one is done with). */
  private working(): boolean {
    const c = this.selected ? this.store.conversations.get(this.selected) : undefined;
    return c !== undefined && c.status !== "resolved";
  }

  /** A conversation given to the agent while they work on another: a toast that opens it. */
  private announce(id: string): void {
    const known = this.store.conversations.get(id);
    if (known) {
      this.notify(known);
      return;
    }
    void this.store.loadConversation(id).then(() => {
      const c = this.store.conversations.get(id);
      if (c) this.notify(c);
    });
  }

  private offerGone(e: CustomEvent<TaskIdDetail>): void {
    this.acceptedHere.delete(e.detail.taskId);
    // That offer, not a later one of the same task. Long enough to read why it went.
    const task = this.tasks.get(e.detail.taskId);
    if (!task) return;
    setTimeout(() => {
      if (this.tasks.get(task.id) !== task) return; // moved on meanwhile: its frame decides
      this.goneOffers.add(`${task.id}:${task.version}`);
      this.requestUpdate();
    }, 2500);
  }

  private renderTasks() {
    const me = this.agent?.id;
    const offers = this.tasks.offers(me).filter((t) => !this.goneOffers.has(`${t.id}:${t.version}`));
    const shown = [...this.tasks.wrapUps(me), ...offers];
    // Callbacks accepted: no conversation to open, the call is made from its panel.
    const calls = this.tasks.all().filter((t) => t.channel === "callback" && t.state === "assigned" && t.agent_id === me);
    if (!shown.length && !calls.length) return nothing;
    return html`<div class="offers"
      @relais-offer-accepting=${(e: CustomEvent<TaskIdDetail>) => this.acceptedHere.add(e.detail.taskId)}
      @relais-offer-accepted=${(e: CustomEvent<TaskDetail>) => this.tasks.set(e.detail.task)}
      @relais-offer-rejected=${(e: CustomEvent<TaskDetail>) => this.tasks.set(e.detail.task)}
      @relais-wrap-up-ended=${(e: CustomEvent<TaskDetail>) => this.tasks.set(e.detail.task)}
      @relais-offer-gone=${this.offerGone}>
      ${repeat(calls, (t) => t.id, (t) => html`<relais-callback-panel .task=${t} .api=${this.api}></relais-callback-panel>`)}
      ${repeat(shown, (t) => t.id, (t) => html`<relais-offer-card .task=${t} .api=${this.api} .strings=${this.strings}
        ?expanded=${t === offers[0] && t.conversation_id !== this.selected}></relais-offer-card>`)}
    </div>`;
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
    // Until its messages are here, count by sequence (last_seq - agent_read_seq).
    if (this.store.lastSeq(c.id) < c.last_seq) return Math.max(0, c.last_seq - c.agent_read_seq);
    return this.store.messagesOf(c.id).filter((m) => m.author_kind === "visitor" && m.seq > c.agent_read_seq).length;
  }

  private notify(c: Conversation): void {
    // Once per conversation: it may be announced as created and then as given to this agent.
    if (c.id === this.selected || this.toasts.some((t) => t.conversationId === c.id)) return;
    const text = this.strings.newConversationToast(this.who(c));
    const id = Date.now() + Math.random();
    this.toasts = [...this.toasts, { id, text, conversationId: c.id }];
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
    this.toasts = this.toasts.filter((t) => t.conversationId !== id);
    this.context = null;
    this.mail.stop();
    const email = this.store.conversations.get(id)?.channel === "email";
    await Promise.all([this.store.loadMessages(id), this.loadContext(id), email ? this.mail.load(id) : null]);
  }

  /** A suggested answer goes into the draft, to be read and edited; never sent from here. */
  private useSuggestion(e: CustomEvent<SuggestionDetail>): void {
    void this.renderRoot.querySelector("relais-composer")?.insert(e.detail.text);
  }

  private async loadContext(id: string): Promise<void> {
    try {
      this.context = await this.api.get<Context>(`/api/v1/conversations/${id}/context`);
    } catch (error) {
      this.error = errorText(error);
    }
  }

  private async resolve(id: string): Promise<void> {
    try {
      const c = await this.api.post<Conversation>(`/api/v1/conversations/${id}/resolve`);
      this.store.conversations.set(c.id, c);
      this.store.changed();
    } catch (error) {
      this.error = errorText(error);
    }
  }

  private async send(id: string, detail: SendDetail): Promise<void> {
    let attachmentIds: string[] = [];
    if (detail.files.length) {
      this.busy = true;
      try {
        attachmentIds = await uploadFiles(this.api, id, detail.files);
      } catch (error) {
        this.error = errorText(error);
        return;
      } finally {
        this.busy = false;
      }
    }
    this.store.send(id, detail.body, attachmentIds);
  }

  override render() {
    const s = this.strings;
    if (!this.checked) return nothing;
    if (!this.agent) return html`<relais-login-form .strings=${s} .error=${this.error} @relais-login=${this.loggedIn}></relais-login-form>`;
    const agent = this.agent;
    return html`
      <header>
        <h1>${s.deskTitle}</h1>
        <span><span class="dot ${agent.presence}"></span>${agent.name}</span>
        ${"Notification" in window && Notification.permission === "default"
          ? html`<button type="button" @click=${this.askNotifications}>${s.notifications}</button>`
          : nothing}
        <select data-testid="presence" aria-label=${s.presence} .value=${agent.presence}
          @change=${(e: Event) => void this.setPresence((e.target as HTMLSelectElement).value)}>
          <option value="available" ?selected=${agent.presence === "available"}>${s.available}</option>
          <option value="away" ?selected=${agent.presence === "away"}>${s.away}</option>
          <option value="offline" disabled hidden ?selected=${agent.presence === "offline"}>${s.offline}</option>
        </select>
        <button type="button" @click=${this.logout}>${s.logout}</button>
      </header>
      ${this.store.connection !== "open" && this.store.wasOpen ? html`<div class="status" role="status">${s.reconnecting}</div>` : nothing}
      ${this.notice && agent.presence === "away" ? html`<div class="status" role="status" data-testid="notice">${this.notice}</div>` : nothing}
      ${this.error || this.store.lastError
        ? html`<div class="status error" role="alert"><span>${this.error ?? this.store.lastError}</span>
            <button type="button" @click=${this.dismissError}>${s.dismiss}</button></div>`
        : nothing}
      <main class=${this.selected ? "picked" : ""}>
        <nav aria-label=${s.conversations}>
          ${this.renderTasks()}
          <h2>${s.conversations}</h2>
          ${this.renderList()}
        </nav>
        <section class="center">${this.renderConversation()}</section>
        <relais-contact-panel .context=${this.context} .strings=${s}></relais-contact-panel>
      </main>
      <div class="toasts" aria-live="polite">${this.toasts.map(
        (t) => html`<button type="button" class="toast" data-testid="toast" @click=${() => void this.select(t.conversationId)}>${t.text}</button>`,
      )}</div>
    `;
  }

  /** The customer's name, or an anonymous visitor told apart by the end of its id. */
  private who(c: Conversation): string {
    return c.contact_name ?? `${this.strings.anonymous} ${(c.visitor_id ?? "").slice(-4)}`;
  }

  private dismissError(): void {
    this.error = null;
    this.store.clearError();
  }

  private renderList() {
    const s = this.strings;
    const list = this.mine();
    if (!list.length) return html`<p class="preview" style="padding: 0 14px">${s.noConversations}</p>`;
    // Keyed by conversation: a list that reorders (a new message moves one to the top) must not
    // hand a row's element to another conversation, or a click landing as it re-renders would
    // open the wrong one.
    return html`<ul>${repeat(list, (c) => c.id, (c) => {
      const email = c.channel === "email";
      // A mail's preview is the last mail, not a note such as "Alice joined".
      const shown = this.store.messagesOf(c.id).filter((m) => !email || m.author_kind !== "system");
      const last = shown[shown.length - 1];
      const unread = this.unread(c);
      const text = last ? preview(last.body) || last.attachments.map((f) => f.filename).join(", ") : "";
      // A mail is known by its subject first, then by whom it is from.
      return html`<li><button data-testid="conversation-item" data-conversation-id=${c.id} data-channel=${c.channel}
        aria-current=${c.id === this.selected ? "true" : "false"} @click=${() => void this.select(c.id)}>
        <span class="who"><span class="channel ${c.channel}" role="img" data-testid="conversation-channel"
          aria-label=${s.channelName[c.channel as TaskChannel] ?? c.channel}>${email ? mailIcon : bubbleIcon}</span>
          ${email ? html`<span data-testid="conversation-subject">${c.subject || s.noSubject}</span>` : this.who(c)}</span>
        ${unread ? html`<span class="badge" aria-label=${s.unread(unread)}>${unread}</span>` : html`<span></span>`}
        ${c.assignee_id === null ? html`<span class="tag">${s.waiting}</span>` : nothing}
        <span class="preview">${email ? html`<span class="from">${this.who(c)}</span>${text ? " · " : ""}` : nothing}${text}</span>
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
        <button type="button" class="back" data-testid="back" aria-label=${s.backToList} title=${s.backToList}
          @click=${() => (this.selected = null)}>‹</button>
        <strong>${this.who(c)}</strong>
        ${resolved ? html`<span>${s.resolved}</span>` : html`<button data-testid="resolve" @click=${() => void this.resolve(c.id)}>${s.resolve}</button>`}
      </div>
      ${c.channel === "email" ? this.renderMail(c) : this.renderChat(c)}
    `;
  }

  /** An e-mail conversation: the mail view, suggested answers, an answer composer. */
  private renderMail(c: Conversation) {
    const s = this.strings;
    const messages = this.store.messagesOf(c.id);
    const lastFromCustomer = messages.filter((m) => m.author_kind === "visitor").pop()?.seq ?? 0;
    // Keyed: a draft (or an open quote) never moves to the next customer's mail.
    return keyed(c.id, html`
      <relais-mail-view .messages=${messages} .thread=${this.mail.get(c.id) ?? null} .subject=${c.subject}
        .strings=${s} .uiLang=${pageLang()} ?closed=${c.status === "resolved"}
        @relais-retry=${(e: CustomEvent<RetryDetail>) => this.store.retry(e.detail.clientId)}>
        ${c.status === "resolved" || !this.canAnswer(c)
          ? nothing
          : html`<relais-suggestions slot="assist" .api=${this.api} .conversationId=${c.id} .refreshKey=${lastFromCustomer}
              .strings=${s} @relais-suggestion=${this.useSuggestion}></relais-suggestions>`}
      </relais-mail-view>
      ${c.status === "resolved"
        ? nothing
        : !this.canAnswer(c)
        ? this.renderInQueue(c)
        : html`<relais-composer .strings=${s} ?busy=${this.busy} multiline .placeholder=${s.answerPlaceholder}
            @relais-send=${(e: CustomEvent<SendDetail>) => void this.send(c.id, e.detail)}></relais-composer>`}
    `);
  }

  /** Who answers (the server's rule, conversations.access.can_write): the agent who holds the
   * conversation, and supervisors; a waiting one is answered once the queue hands it out. */
  private canAnswer(c: Conversation): boolean {
    return c.assignee_id === this.agent?.id || (!!this.agent && this.agent.role !== "agent");
  }

  /** In place of the composer, in a conversation the agent reads but does not hold. */
  private renderInQueue(c: Conversation) {
    const offered = this.tasks.offers(this.agent?.id).some((t) => t.conversation_id === c.id);
    const s = this.strings;
    return html`<p class="in-queue" data-testid="in-queue" role="note">${offered ? s.acceptToAnswer : s.inQueue}</p>`;
  }

  private renderChat(c: Conversation) {
    const s = this.strings;
    const resolved = c.status === "resolved";
    return html`
      <relais-conversation-view .messages=${this.store.messagesOf(c.id)} me="agent" .strings=${s}
        .otherReadSeq=${c.visitor_read_seq}
        .typingName=${this.store.typing.has(c.id) ? this.store.typing.get(c.id) || this.who(c) : undefined}
        @relais-retry=${(e: CustomEvent<RetryDetail>) => this.store.retry(e.detail.clientId)}>
      </relais-conversation-view>
      ${resolved
        ? nothing
        : !this.canAnswer(c)
        ? this.renderInQueue(c)
        : html`<relais-composer .strings=${s} ?busy=${this.busy}
            @relais-send=${(e: CustomEvent<SendDetail>) => void this.send(c.id, e.detail)}
            @relais-typing=${(e: CustomEvent<TypingDetail>) => this.store.sendTyping(c.id, e.detail.typing)}></relais-composer>`}
    `;
  }
}

function cookie(name: string): string | null {
  const found = document.cookie.split("; ").find((c) => c.startsWith(`${name}=`));
  return found ? decodeURIComponent(found.slice(name.length + 1)) : null;
}

/** A message's first line without Markdown marks, for the list. */
function preview(body: string): string {
  return body.replace(/[*_`~#>]+/g, "").replace(/\s+/g, " ").trim();
}

customElements.define("relais-desk", RelaisDesk);
