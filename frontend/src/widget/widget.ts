import { LitElement, html, nothing } from "lit";
import { Api, ApiError, errorText, newClientId, uploadFiles } from "../shared/api.js";
import { ChatStore } from "../shared/chat-store.js";
import "../shared/composer/composer.js";
import type { DraftDetail, RelaisComposer, SendDetail, TypingDetail } from "../shared/composer/composer.js";
import "../shared/conversation-view/conversation-view.js";
import type { DownloadDetail, RetryDetail } from "../shared/conversation-view/conversation-view.js";
import { chatIcon, closeIcon } from "../shared/icons.js";
import { pageLang, strings, type Lang } from "../shared/i18n.js";
import { StoreController } from "../shared/store-controller.js";
import type { Attachment, Conversation } from "../shared/types.js";
import { endPanel, offlineForm, type EndState } from "./panels.js";
import { callbackStrings, isOpen, type Callback } from "../shared/callback.js";
import "./callback-form/callback-form.js";
import { phoneIcon, type CallbackDetail, type QueuePlace } from "./callback-form/callback-form.js";
import { styles } from "./widget.styles.js";

const TOKEN_KEY = "relais.visitor";
const OPEN_KEY = "relais.open";
const DRAFT_KEY = "relais.draft";
const DISMISSED_KEY = "relais.dismissed";
const ACTIVE_KEY = "relais.active";

interface VisitorSession {
  token: string;
  visitor_id: string;
  identified: boolean;
  contact_name: string | null;
  agents_online: boolean;
}

/**
 * The visitor's widget: a launcher and a panel with the shared conversation view and composer.
 * Lives in Shadow DOM; keeps its token in localStorage and its open state and draft in
 * sessionStorage, so the conversation follows the visitor from page to page.
 */
export class RelaisWidget extends LitElement {
  static override styles = styles;
  static override properties = {
    open: { type: Boolean, reflect: true },
    language: { state: true },
    offlineSent: { state: true },
    formError: { state: true },
    end: { state: true },
    busy: { state: true },
    view: { state: true },
    callback: { state: true },
    callbackPlace: { state: true },
    callbackOffered: { state: true },
  };

  open = sessionStorage.getItem(OPEN_KEY) === "1";
  language: Lang = pageLang();
  offlineSent = false;
  formError: string | null = null;
  end: EndState = { rating: null, transcriptSent: false, error: null };
  busy = false;
  /** The panel shows the chat, or the "call me back" form and where the request stands. */
  view: "chat" | "callback" = "chat";
  callback: Callback | null = null;
  callbackPlace: QueuePlace | null = null;
  /** The queue offered a callback instead of waiting on (an overflow step). */
  callbackOffered = false;
  server = "";
  identity: string | null = null;

  private token: string | null = localStorage.getItem(TOKEN_KEY);
  private readonly fetched = new Set<string>();
  private api!: Api;
  private store!: ChatStore;

  override connectedCallback(): void {
    // Made once, when `server` is known (set between createElement and append).
    if (!this.store) this.createStore();
    super.connectedCallback();
    document.addEventListener("keydown", this.onKey);
    void this.start();
  }

  private createStore(): void {
    this.api = new Api({ base: this.server, token: () => this.token });
    this.store = new ChatStore({
      api: this.api,
      hello: () => ({ token: this.token }),
      extra: {
        ready: () => this.reportPage(),
        callback: (f) => this.setCallback(f.callback),
        callback_offered: () => (this.callbackOffered = true),
        queue_position: (f) => {
          if (f.task_id === this.callback?.task_id) this.callbackPlace = { position: f.position, waitS: f.estimated_wait_s };
        },
      },
      // The token is no longer valid (expired, or the server's data was reset): start afresh.
      onUnauthorized: () => {
        this.token = null;
        localStorage.removeItem(TOKEN_KEY);
        void this.start();
      },
    });
    new StoreController(this, this.store);
  }

  override disconnectedCallback(): void {
    super.disconnectedCallback();
    document.removeEventListener("keydown", this.onKey);
    this.store.disconnect();
  }

  private onKey = (event: KeyboardEvent) => {
    if (event.key === "Escape" && this.open) this.setOpen(false);
  };

  /** Start or resume the visitor, then connect. Also used by Relais.identify(). */
  async start(): Promise<void> {
    try {
      const session = await this.api.post<VisitorSession>("/api/v1/visitor/session", {
        token: this.token,
        identity: this.identity,
        lang: this.language,
      });
      this.token = session.token;
      localStorage.setItem(TOKEN_KEY, session.token);
      this.store.agentsOnline = session.agents_online;
      this.store.disconnect();
      await this.restoreHistory();
      this.store.connect();
      await this.loadCallback();
    } catch (error) {
      this.store.reportError(errorText(error));
    }
  }

  /**
   * The conversation of the previous page comes back by REST, its history included; the
   * WebSocket then resumes after it (hello with its cursor) instead of replaying it all.
   */
  private async restoreHistory(): Promise<void> {
    const id = sessionStorage.getItem(ACTIVE_KEY);
    if (!id || this.store.conversations.has(id)) return;
    try {
      const conversation = await this.api.get<Conversation>(`/api/v1/conversations/${id}`);
      this.store.conversations.set(id, conversation);
    } catch (error) {
      // Another visitor's (a new token): forget it. Anything else is said.
      if (error instanceof ApiError && (error.status === 403 || error.status === 404)) {
        sessionStorage.removeItem(ACTIVE_KEY);
      } else this.store.reportError(errorText(error));
      return;
    }
    this.fetched.add(id);
    await this.store.loadMessages(id);
  }

  /** The visitor's request still open, from any page (the newest first). */
  private async loadCallback(): Promise<void> {
    const mine = await this.api.get<Callback[]>("/api/v1/callbacks");
    this.setCallback(mine.find(isOpen) ?? null);
  }

  private setCallback(callback: Callback | null): void {
    // Frames and answers may cross: a request the visitor replaced stays replaced.
    if (callback && this.callback && callback.id !== this.callback.id && isOpen(this.callback) && !isOpen(callback)) return;
    if (callback?.task_id !== this.callback?.task_id || callback?.status !== "waiting") this.callbackPlace = null;
    this.callback = callback;
  }

  /** For the host page: Relais.callback(), and any element with data-relais-callback. */
  openCallback(): void {
    this.view = "callback";
    this.setOpen(true);
  }

  setOpen(open: boolean): void {
    this.open = open;
    sessionStorage.setItem(OPEN_KEY, open ? "1" : "0");
    if (open) void this.updateComplete.then(() => this.composer()?.focus());
    else this.renderRoot.querySelector<HTMLButtonElement>(".launcher")?.focus();
  }

  private composer(): RelaisComposer | null {
    return this.renderRoot.querySelector("relais-composer");
  }

  /** The conversation the panel shows: the one not resolved, or the one that just ended. */
  private current(): Conversation | null {
    const all = [...this.store.conversations.values()].sort((a, b) => b.created_at.localeCompare(a.created_at));
    const active = all.find((c) => c.status !== "resolved");
    if (active) {
      sessionStorage.setItem(ACTIVE_KEY, active.id);
      return active;
    }
    // A conversation that ended during this visit stays on screen, to be rated, until the
    // visitor starts a new one; older ones do not come back.
    const latest = all[0];
    const endedNow = latest && latest.id === sessionStorage.getItem(ACTIVE_KEY);
    return endedNow && latest.id !== sessionStorage.getItem(DISMISSED_KEY) ? latest : null;
  }

  override updated(): void {
    const current = this.current();
    if (!current) return;
    if (this.open && document.visibilityState === "visible") this.store.markRead(current.id);
    // After a reload, a conversation that ended has no messages replayed: fetch them once.
    if (current.status === "resolved" && !this.fetched.has(current.id) && this.store.lastSeq(current.id) === 0) {
      this.fetched.add(current.id);
      void this.store.loadMessages(current.id);
    }
  }

  override render() {
    const s = strings(this.language);
    return html`
      ${this.open ? this.renderPanel() : nothing}
      <button class="launcher" data-testid="launcher" aria-expanded=${this.open ? "true" : "false"}
        aria-label=${this.open ? s.close : s.chatWithUs} title=${this.open ? s.close : s.chatWithUs}
        @click=${() => this.setOpen(!this.open)}>${this.open ? closeIcon : chatIcon}</button>
    `;
  }

  private renderPanel() {
    const s = strings(this.language);
    const store = this.store;
    const current = this.current();
    const online = store.agentsOnline;
    const offline = !online && !current && store.messagesOf(null).length === 0;
    return html`
      <section class="panel" role="dialog" aria-label=${s.title}>
        <header>
          <div class="titles">
            <h2>${s.title}</h2>
            <p>${current?.assignee_name ?? (online ? s.subtitleOnline : s.subtitleOffline)}</p>
          </div>
          <button type="button" class="callback-open" data-testid="callback-open"
            aria-pressed=${this.view === "callback" ? "true" : "false"}
            @click=${() => (this.view = this.view === "callback" ? "chat" : "callback")}>${phoneIcon}<span>${callbackStrings(this.language).callMeBack}</span></button>
          <button type="button" @click=${this.switchLang} lang=${this.language === "en" ? "fr" : "en"}>${s.language}</button>
          <button type="button" aria-label=${s.close} @click=${() => this.setOpen(false)}>${closeIcon}</button>
        </header>
        ${store.connection !== "open" && store.wasOpen ? html`<div class="status" role="status">${s.reconnecting}</div>` : nothing}
        ${store.lastError
          ? html`<div class="status error" role="alert"><span>${store.lastError}</span>
              <button type="button" @click=${() => store.clearError()}>${s.dismiss}</button></div>`
          : nothing}
        ${this.offlineSent && current ? html`<p class="note thanks" role="status">${s.offlineThanks}</p>` : nothing}
        ${this.view === "callback"
          ? this.renderCallback(current)
          : html`${this.renderCallbackNote()}${this.renderQueuePlace(current)}
            ${offline
              ? offlineForm(s, this.offlineSent, this.formError, { submit: (f) => void this.leaveMessage(f) })
              : this.renderConversation(current)}`}
      </section>
    `;
  }

  private renderCallback(current: Conversation | null) {
    return html`<relais-callback-form .api=${this.api} .language=${this.language} .callback=${this.callback}
      .place=${this.callbackPlace} .conversationId=${current && current.status !== "resolved" ? current.id : null}
      @relais-callback=${(e: CustomEvent<CallbackDetail>) => this.setCallback(e.detail.callback)}
      @relais-callback-close=${() => (this.view = "chat")}></relais-callback-form>`;
  }

  /** In the chat: the callback offered by the queue, or the request already made. */
  private renderCallbackNote() {
    const cs = callbackStrings(this.language);
    const open = isOpen(this.callback);
    if (!open && !this.callbackOffered) return nothing;
    return html`<p class="note callback-note" role="status" data-testid="callback-note">
      <span>${open ? cs.callbackTitle : cs.offerCallback}</span>
      <button type="button" class="secondary" @click=${() => (this.view = "callback")}>${phoneIcon} ${cs.callMeBack}</button></p>`;
  }

  /** While nobody has the conversation yet: the place in the queue and the estimated wait. */
  private renderQueuePlace(current: Conversation | null) {
    // Not after an offline message: that visitor was told the answer comes by e-mail.
    const waiting = current && !current.assignee_id && current.status !== "resolved";
    const place = waiting && !this.offlineSent && this.store.agentsOnline
      ? this.store.queuePlace.get(current.id) : undefined;
    if (!place) return nothing;
    const minutes = place.waitS === null ? null : Math.max(1, Math.round(place.waitS / 60));
    return html`<p class="note queue-place" role="status" data-testid="queue-place">${strings(this.language).queuePlace(place.position, minutes)}</p>`;
  }

  private renderConversation(current: Conversation | null) {
    const s = strings(this.language);
    const id = current?.id ?? null;
    const resolved = current?.status === "resolved";
    return html`
      <relais-conversation-view .messages=${this.store.messagesOf(id)} me="visitor" .strings=${s} .base=${this.server}
        .emptyText=${s.welcome} .otherReadSeq=${current?.agent_read_seq ?? 0}
        .typingName=${id && this.store.typing.has(id) ? this.store.typing.get(id) : undefined}
        @relais-retry=${(e: CustomEvent<RetryDetail>) => this.store.retry(e.detail.clientId)}
        @relais-download=${(e: CustomEvent<DownloadDetail>) => {
          e.preventDefault();
          void this.download(e.detail.attachment);
        }}>
      </relais-conversation-view>
      ${resolved && current
        ? endPanel(s, { ...this.end, rating: this.end.rating ?? current.rating }, {
            rate: (n) => void this.rate(current.id, n),
            transcript: (email) => void this.transcript(current.id, email),
            restart: () => this.restart(current.id),
          })
        : html`<relais-composer .strings=${s} ?busy=${this.busy} @relais-send=${(e: CustomEvent<SendDetail>) => void this.send(id, e.detail)}
            @relais-draft=${(e: CustomEvent<DraftDetail>) => sessionStorage.setItem(DRAFT_KEY, e.detail.value)}
            @relais-typing=${(e: CustomEvent<TypingDetail>) => id && this.store.sendTyping(id, e.detail.typing)}>
          </relais-composer>`}
    `;
  }

  override firstUpdated(): void {
    const draft = sessionStorage.getItem(DRAFT_KEY);
    if (draft) void this.updateComplete.then(() => this.composer()?.setDraft(draft));
  }

  private async send(conversationId: string | null, detail: SendDetail): Promise<void> {
    let id = conversationId;
    let attachmentIds: string[] = [];
    if (detail.files.length) {
      this.busy = true;
      try {
        // Files belong to a conversation: a first message with files starts it by REST.
        if (!id) {
          const started = await this.api.post<Conversation>("/api/v1/conversations", { client_id: newClientId() });
          this.store.conversations.set(started.id, started);
          id = started.id;
        }
        attachmentIds = await uploadFiles(this.api, id, detail.files);
      } catch (error) {
        this.store.reportError(errorText(error));
        return;
      } finally {
        this.busy = false;
      }
    }
    this.store.send(id, detail.body, attachmentIds);
  }

  private async leaveMessage(form: HTMLFormElement): Promise<void> {
    const data = new FormData(form);
    try {
      const conversation = await this.api.post<Conversation>("/api/v1/visitor/offline-messages", {
        client_id: newClientId(),
        name: String(data.get("name") ?? ""),
        email: String(data.get("email") ?? ""),
        body: String(data.get("body") ?? ""),
      });
      this.offlineSent = true;
      this.formError = null;
      await this.store.loadConversation(conversation.id);
    } catch (error) {
      this.formError = errorText(error);
    }
  }

  private async rate(conversationId: string, score: number): Promise<void> {
    try {
      await this.api.post(`/api/v1/conversations/${conversationId}/rating`, { score });
      this.end = { ...this.end, rating: score, error: null };
    } catch (error) {
      this.end = { ...this.end, error: errorText(error) };
    }
  }

  private async transcript(conversationId: string, email: string): Promise<void> {
    try {
      await this.api.post(`/api/v1/conversations/${conversationId}/transcript`, { email });
      this.end = { ...this.end, transcriptSent: true, error: null };
    } catch (error) {
      this.end = { ...this.end, error: errorText(error) };
    }
  }

  private restart(conversationId: string): void {
    sessionStorage.setItem(DISMISSED_KEY, conversationId);
    this.end = { rating: null, transcriptSent: false, error: null };
    this.offlineSent = false;
    this.requestUpdate();
  }

  private switchLang(): void {
    this.language = this.language === "en" ? "fr" : "en";
  }

  /** Attachments need the visitor's token, so they are fetched and saved from a blob. */
  private async download(attachment: Attachment): Promise<void> {
    let response: Response;
    try {
      response = await fetch(this.server + attachment.url, { headers: { Authorization: `Bearer ${this.token}` } });
    } catch (error) {
      this.store.reportError(errorText(error));
      return;
    }
    if (!response.ok) {
      this.store.reportError(`${attachment.filename}: ${response.status} ${response.statusText}`);
      return;
    }
    const url = URL.createObjectURL(await response.blob());
    const link = document.createElement("a");
    link.href = url;
    link.download = attachment.filename;
    link.click();
    setTimeout(() => URL.revokeObjectURL(url), 10_000);
  }

  private reportedUrl: string | null = null;

  /**
   * Tells the server which page the visitor is on: after the first hello, and when a
   * single-page site changes its URL; not again after a mere reconnect.
   */
  reportPage(): void {
    if (location.href === this.reportedUrl) return;
    if (this.store.sendPage(location.href, document.title)) this.reportedUrl = location.href;
  }

  /** For the host page: Relais.identify(jwt). */
  async identify(jwt: string): Promise<void> {
    this.identity = jwt;
    await this.start();
  }
}

customElements.define("relais-widget", RelaisWidget);
