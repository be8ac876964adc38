import { LitElement, html, nothing, svg, type PropertyValues } from "lit";
import { Api, ApiError, errorText } from "../../shared/api.js";
import { clock, languageName, pageLang, type Lang, type Strings } from "../../shared/i18n.js";
import type { ScreenPop, Task, TaskChannel } from "../../shared/types.js";
import "../contact-panel/contact-panel.js";
import { styles } from "./offer-card.styles.js";

export interface TaskDetail {
  task: Task;
}
export interface TaskIdDetail {
  taskId: string;
}

/** How long after its deadline a lapsed offer is taken for gone when no frame said so. */
const LAPSE_GRACE_MS = 2000;
const TICK_MS = 500;

const channelIcons: Record<TaskChannel, ReturnType<typeof svg>> = {
  chat: svg`<path d="M4 4h16a2 2 0 0 1 2 2v10a2 2 0 0 1-2 2H9l-5 4v-4a2 2 0 0 1-2-2V6a2 2 0 0 1 2-2z"/>`,
  email: svg`<path d="M3 5h18a1 1 0 0 1 1 1v12a1 1 0 0 1-1 1H3a1 1 0 0 1-1-1V6a1 1 0 0 1 1-1zm1 2.2V17h16V7.2l-8 5.3-8-5.3zM5.2 7 12 11.5 18.8 7H5.2z"/>`,
  callback: svg`<path d="M6.6 10.8a15.1 15.1 0 0 0 6.6 6.6l2.2-2.2a1 1 0 0 1 1-.25 11.4 11.4 0 0 0 3.6.57 1 1 0 0 1 1 1V20a1 1 0 0 1-1 1A17 17 0 0 1 3 4a1 1 0 0 1 1-1h3.5a1 1 0 0 1 1 1c0 1.25.2 2.45.57 3.6a1 1 0 0 1-.25 1l-2.2 2.2zM14 3h7v2h-4.6l5.3 5.3-1.4 1.4L15 6.4V11h-2V4a1 1 0 0 1 1-1z"/>`,
  voice: svg`<path d="M6.6 10.8a15.1 15.1 0 0 0 6.6 6.6l2.2-2.2a1 1 0 0 1 1-.25 11.4 11.4 0 0 0 3.6.57 1 1 0 0 1 1 1V20a1 1 0 0 1-1 1A17 17 0 0 1 3 4a1 1 0 0 1 1-1h3.5a1 1 0 0 1 1 1c0 1.25.2 2.45.57 3.6a1 1 0 0 1-.25 1l-2.2 2.2z"/>`,
};

/**
 * An own task that asks something of the agent: an offer (state `reserved`) to accept or
 * reject before its deadline, with the screen pop (who the customer is, what they did before,
 * where they are) shown before accepting; or a wrap-up (state `wrap_up`) to end.
 *
 * Keyboard: with focus on the card, Enter accepts; with focus anywhere in it, Escape rejects.
 * The card never takes the focus itself: an Enter meant for the composer must not accept.
 *
 * @event relais-offer-accepting - `TaskIdDetail`: the agent asked to accept, before the answer.
 * @event relais-offer-accepted - `TaskDetail`: accepted; the task as the server answered.
 * @event relais-offer-rejected - `TaskDetail`: rejected; the task as the server answered.
 * @event relais-offer-gone - `TaskIdDetail`: the offer lapsed (refused by the server, or past
 *   its deadline with no word from it).
 * @event relais-wrap-up-ended - `TaskDetail`: wrap-up ended.
 * @csspart card - the offer's box.
 * @csspart wrap-up - the wrap-up bar.
 */
export class RelaisOfferCard extends LitElement {
  static override styles = styles;
  static override properties = {
    task: { attribute: false },
    api: { attribute: false },
    strings: { attribute: false },
    uiLang: { attribute: false },
    expanded: { type: Boolean },
    pop: { state: true },
    popError: { state: true },
    busy: { state: true },
    error: { state: true },
    gone: { state: true },
    announced: { state: true },
    now: { state: true },
    popOpen: { state: true },
  };

  task!: Task;
  api!: Api;
  strings!: Strings;
  uiLang: Lang = pageLang();
  /**
   * The screen pop open (the desk opens the first offer's, unless that conversation is open
   * beside it already). Closed, its contact panel is not rendered at all.
   */
  expanded = false;
  popOpen = false;

  pop: ScreenPop | null = null;
  popError: string | null = null;
  busy = false;
  error: string | null = null;
  gone = false;
  announced = false;
  now = Date.now();

  private timer: number | undefined;
  private poppedFor: string | null = null;
  /** Client clock minus server clock, estimated from the screen pop's waited_s. */
  private skewMs = 0;
  private popAt = 0;
  private lapseSent = false;

  override connectedCallback(): void {
    super.connectedCallback();
    this.timer = window.setInterval(() => this.tick(), TICK_MS);
  }

  override disconnectedCallback(): void {
    super.disconnectedCallback();
    window.clearInterval(this.timer);
  }

  protected override willUpdate(changed: PropertyValues<this>): void {
    if (changed.has("expanded")) this.popOpen = this.expanded;
    if (changed.has("task") && this.task && this.task.id !== this.poppedFor) {
      this.poppedFor = this.task.id;
      this.pop = null;
      this.popError = null;
      this.gone = false;
      this.lapseSent = false;
      if (this.task.state === "reserved") void this.loadPop(this.task.id);
    }
  }

  protected override firstUpdated(): void {
    // A live region announces a change of its content, not content it was born with.
    window.setTimeout(() => (this.announced = true), 150);
  }

  private tick(): void {
    this.now = Date.now();
    const left = this.offerLeftMs();
    if (left !== null && left < -LAPSE_GRACE_MS && !this.lapseSent && this.task.state === "reserved") {
      this.lapseSent = true;
      this.emit<TaskIdDetail>("relais-offer-gone", { taskId: this.task.id });
    }
  }

  /** The server's clock, as well as this client can tell. */
  private serverNow(): number {
    return this.now - this.skewMs;
  }

  private offerLeftMs(): number | null {
    return this.task?.deadline ? Date.parse(this.task.deadline) - this.serverNow() : null;
  }

  private async loadPop(id: string): Promise<void> {
    try {
      const pop = await this.api.get<ScreenPop>(`/api/v1/tasks/${encodeURIComponent(id)}/screen-pop`);
      if (this.task.id !== id) return;
      this.popAt = Date.now();
      this.now = this.popAt;
      const queued = pop.task.queued_at ?? this.task.queued_at;
      if (pop.waited_s !== null && queued) {
        // waited_s is measured on the server's clock up to its answer: the difference from this
        // clock's own measure is the skew (plus half a round trip, which only shortens the
        // countdown a little).
        const skew = this.popAt - Date.parse(queued) - pop.waited_s * 1000;
        if (Number.isFinite(skew)) this.skewMs = skew;
      }
      this.pop = pop;
    } catch (error) {
      if (this.task.id !== id) return;
      console.error("relais: screen pop", error);
      this.popError = errorText(error);
    }
  }

  private async act(verb: "accept" | "reject" | "end-wrap-up"): Promise<void> {
    if (this.busy || this.gone) return;
    const task = this.task;
    this.busy = true;
    this.error = null;
    // Before the request: the task's frame may come back before its answer.
    if (verb === "accept") this.emit<TaskIdDetail>("relais-offer-accepting", { taskId: task.id });
    try {
      const answer = await this.api.post<Task>(`/api/v1/tasks/${encodeURIComponent(task.id)}/${verb}`);
      const crm = this.pop?.task.id === task.id ? this.pop : null;
      if (verb === "accept" && crm?.crm_url && crm.crm_open_on_accept) {
        // Still within the click's user activation, so pop-up blockers let it through.
        window.open(crm.crm_url, "_blank", "noopener,noreferrer");
      }
      const name = { accept: "relais-offer-accepted", reject: "relais-offer-rejected", "end-wrap-up": "relais-wrap-up-ended" }[verb];
      this.emit<TaskDetail>(name, { task: answer });
    } catch (error) {
      if (error instanceof ApiError && (error.status === 409 || error.status === 404) && verb !== "end-wrap-up") {
        // offer_gone: it lapsed, or was taken back, before the answer reached the server.
        this.gone = true;
        this.error = this.strings.offerGone;
        this.emit<TaskIdDetail>("relais-offer-gone", { taskId: task.id });
      } else {
        console.error(`relais: ${verb}`, error);
        this.error = errorText(error);
      }
    } finally {
      this.busy = false;
    }
  }

  private emit<T>(name: string, detail: T): void {
    this.dispatchEvent(new CustomEvent<T>(name, { detail, bubbles: true, composed: true }));
  }

  private onKey(event: KeyboardEvent): void {
    if (event.repeat || this.task.state !== "reserved") return;
    if (event.key === "Escape") {
      event.preventDefault();
      void this.act("reject");
    } else if (event.key === "Enter" && event.composedPath()[0] === event.currentTarget) {
      // On a button or the details' summary, Enter does what that control does.
      event.preventDefault();
      void this.act("accept");
    }
  }

  /** Customer's name, or "Visitor" when the screen pop knows no name; "…" until it is here. */
  private who(): string {
    if (!this.pop && !this.popError) return "…";
    const c = this.pop?.context;
    return c?.contact?.name ?? c?.visitor?.claimed_name ?? this.strings.visitor;
  }

  private waitedS(): number | null {
    if (this.pop?.waited_s != null) return this.pop.waited_s + (this.now - this.popAt) / 1000;
    const since = this.task.queued_at ?? this.task.created_at;
    return since ? (this.serverNow() - Date.parse(since)) / 1000 : null;
  }

  private page(): { text: string; url: string } | null {
    const current = this.pop?.context?.current_page;
    if (current) return { text: current.title || current.url, url: current.url };
    const a = this.task.attributes;
    const url = typeof a.page_url === "string" ? a.page_url : "";
    const title = typeof a.page_title === "string" ? a.page_title : "";
    return url || title ? { text: title || url, url } : null;
  }

  override render() {
    if (!this.task) return nothing;
    if (this.task.state === "wrap_up") return this.renderWrapUp();
    if (this.task.state === "reserved") return this.renderOffer();
    return nothing;
  }

  private renderOffer() {
    const s = this.strings;
    const t = this.task;
    const language = typeof t.attributes.language === "string" ? languageName(t.attributes.language, this.uiLang) : null;
    const left = this.offerLeftMs();
    const lapsed = this.gone || (left !== null && left <= 0);
    const waited = this.waitedS();
    const page = this.page();
    const who = this.who();
    return html`
      <section part="card" class="card ${lapsed ? "lapsed" : ""}" tabindex="0" data-testid="offer-card"
        data-task-id=${t.id} data-conversation-id=${t.conversation_id ?? nothing} aria-labelledby="title" aria-describedby="keys" @keydown=${this.onKey}>
        <p class="sr-only" aria-live="assertive" data-testid="offer-announce">${this.announced ? s.offerAnnounce(t.channel) : ""}</p>
        <div class="head">
          <svg class="icon" viewBox="0 0 24 24" width="20" height="20" fill="currentColor" role="img"
            aria-label=${s.channelName[t.channel]}>${channelIcons[t.channel] ?? channelIcons.chat}</svg>
          <h2 id="title" class="title">${s.offerTitle(t.channel, language)}</h2>
          <span class="countdown ${left !== null && left < 10_000 ? "urgent" : ""}" role="timer" data-testid="offer-countdown">
            ${lapsed ? s.offerLapsed : left !== null ? s.timeLeft(clock(Math.ceil(left / 1000))) : nothing}</span>
        </div>
        <p class="who"><strong data-testid="offer-who">${who}</strong>
          ${waited !== null ? html`<span class="muted" data-testid="offer-waited"> · ${s.waited(clock(waited))}</span>` : nothing}</p>
        ${page ? html`<p class="page muted" title=${page.url} data-testid="offer-page">${page.text}</p>` : nothing}
        ${this.pop?.crm_url ? html`<p class="crm"><a href=${this.pop.crm_url} target="_blank" rel="noopener noreferrer"
          data-testid="offer-crm">${s.openInCrm}</a></p>` : nothing}
        <div class="actions">
          <button type="button" class="accept" data-testid="offer-accept" ?disabled=${this.busy || lapsed}
            @click=${() => void this.act("accept")}>${s.accept}</button>
          <button type="button" class="reject" data-testid="offer-reject" ?disabled=${this.busy || lapsed}
            @click=${() => void this.act("reject")}>${s.reject}</button>
        </div>
        <p id="keys" class="sr-only">${s.offerKeys}</p>
        ${this.error ? html`<p class="error" role="alert" data-testid="offer-error">${this.error}</p>` : nothing}
        <details ?open=${this.expanded} data-testid="screen-pop"
          @toggle=${(e: Event) => (this.popOpen = (e.target as HTMLDetailsElement).open)}>
          <summary>${s.screenPop}</summary>
          ${this.renderAttributes()}
          ${this.popError ? html`<p class="error" role="alert">${this.popError}</p>` : nothing}
          ${this.popOpen && this.pop?.context ? html`<relais-contact-panel .context=${this.pop.context} .strings=${s}></relais-contact-panel>` : nothing}
        </details>
      </section>
    `;
  }

  private renderAttributes() {
    const s = this.strings;
    const entries = Object.entries(this.task.attributes).filter(
      ([, v]) => typeof v === "string" || typeof v === "number" || typeof v === "boolean",
    );
    if (!entries.length) return nothing;
    return html`<h3>${s.details}</h3><dl data-testid="offer-attributes">${entries.map(([k, v]) => html`
      <dt>${s.attributeNames[k] ?? k.replace(/_/g, " ")}</dt>
      <dd>${k === "language" && typeof v === "string" ? languageName(v, this.uiLang) : String(v)}</dd>`)}</dl>`;
  }

  private renderWrapUp() {
    const s = this.strings;
    const until = this.task.wrap_up_until ? Date.parse(this.task.wrap_up_until) : null;
    const left = until !== null ? clock(Math.ceil((until - this.serverNow()) / 1000)) : null;
    return html`
      <div part="wrap-up" class="wrap-up" data-testid="wrap-up-bar" data-task-id=${this.task.id}>
        <span role="timer">${s.wrapUp(left)}</span>
        <button type="button" data-testid="wrap-up-done" ?disabled=${this.busy}
          @click=${() => void this.act("end-wrap-up")}>${s.done}</button>
        ${this.error ? html`<p class="error" role="alert">${this.error}</p>` : nothing}
      </div>
    `;
  }
}

customElements.define("relais-offer-card", RelaisOfferCard);

declare global {
  interface HTMLElementTagNameMap {
    "relais-offer-card": RelaisOfferCard;
  }
  interface HTMLElementEventMap {
    "relais-offer-accepting": CustomEvent<TaskIdDetail>;
    "relais-offer-accepted": CustomEvent<TaskDetail>;
    "relais-offer-rejected": CustomEvent<TaskDetail>;
    "relais-offer-gone": CustomEvent<TaskIdDetail>;
    "relais-wrap-up-ended": CustomEvent<TaskDetail>;
  }
}
