import { LitElement, html, nothing, svg, type PropertyValues } from "lit";
import { ApiError, errorText, type Api } from "../../shared/api.js";
import {
  callbackStrings,
  dayLabel,
  isOpen,
  slotLabel,
  spacedNumber,
  timeLabel,
  type Callback,
  type Slot,
  type Slots,
} from "../../shared/callback.js";
import type { Lang } from "../../shared/i18n.js";
import { styles } from "./callback-form.styles.js";

export interface CallbackDetail {
  callback: Callback | null;
}

/** The place of a waiting callback in its queue (a `queue_position` frame of its task). */
export interface QueuePlace {
  position: number;
  waitS: number | null;
}

type When = "asap" | "slot";
/** Refusals that are about the number: said beside the number's field. */
const NUMBER_ERRORS = new Set(["invalid_number", "number_refused", "country_not_allowed"]);

/**
 * The visitor's "call me back": a form (number, reason, now or a slot of the queue's hours,
 * consent), then where the request stands (booked, in line with its place, being called, to be
 * tried again, done), with a change of time and a cancel while it waits.
 *
 * @event relais-callback - `CallbackDetail`: the request as the server answered it (made,
 *   moved, cancelled), or null when the visitor starts a new one.
 * @event relais-callback-close - the visitor goes back to the chat.
 */
export class RelaisCallbackForm extends LitElement {
  static override styles = styles;
  static override properties = {
    api: { attribute: false },
    language: { attribute: false },
    callback: { attribute: false },
    place: { attribute: false },
    conversationId: { attribute: false },
    slots: { state: true },
    when: { state: true },
    day: { state: true },
    slotStart: { state: true },
    busy: { state: true },
    error: { state: true },
    errorCode: { state: true },
    editing: { state: true },
    now: { state: true },
  };

  api!: Api;
  language: Lang = "en";
  callback: Callback | null = null;
  place: QueuePlace | null = null;
  conversationId: string | null = null;

  slots: Slots | null = null;
  when: When = "asap";
  day = "";
  slotStart = "";
  busy = false;
  error: string | null = null;
  errorCode: string | null = null;
  editing = false;
  now = Date.now();
  private timer: number | undefined;

  override connectedCallback(): void {
    super.connectedCallback();
    // Re-rendered every 15 s: "your time has come" once a booked slot starts.
    this.timer = window.setInterval(() => (this.now = Date.now()), 15_000);
  }

  override disconnectedCallback(): void {
    super.disconnectedCallback();
    window.clearInterval(this.timer);
  }

  protected override willUpdate(changed: PropertyValues<this>): void {
    const asking = !isOpen(this.callback) || this.editing;
    if ((changed.has("callback") || changed.has("editing")) && asking && !this.slots) void this.loadSlots();
  }

  protected override firstUpdated(): void {
    this.renderRoot.querySelector<HTMLElement>("input[name=number], .status-text")?.focus();
  }

  private async loadSlots(): Promise<void> {
    try {
      const slots = await this.api.get<Slots>("/api/v1/callbacks/slots");
      this.slots = slots;
      if (!slots.open_now) this.when = "slot";
      const first = slots.slots[0];
      if (first && !slots.slots.some((s) => s.start === this.slotStart)) {
        this.day = this.dayKey(first.start);
        this.slotStart = first.start;
      }
    } catch (error) {
      this.fail(error);
    }
  }

  private dayKey(iso: string): string {
    return dayLabel(iso, this.language);
  }

  private chosenSlot(): Slot | null {
    if (this.when !== "slot") return null;
    return this.slots?.slots.find((s) => s.start === this.slotStart) ?? null;
  }

  private fail(error: unknown): void {
    this.errorCode = error instanceof ApiError ? error.code : null;
    const s = callbackStrings(this.language);
    this.error = (this.errorCode && s.errors[this.errorCode]) || errorText(error);
    if (this.errorCode === "queue_closed" || this.errorCode === "invalid_slot") {
      // The times changed under the visitor: offer the ones bookable now.
      this.slots = null;
      this.when = "slot";
      void this.loadSlots();
    }
  }

  private emit(callback: Callback | null): void {
    this.dispatchEvent(new CustomEvent<CallbackDetail>("relais-callback", { detail: { callback }, bubbles: true, composed: true }));
  }

  private async submit(event: Event): Promise<void> {
    event.preventDefault();
    if (this.busy) return;
    const form = event.target as HTMLFormElement;
    const data = new FormData(form);
    const slot = this.chosenSlot();
    this.busy = true;
    this.error = this.errorCode = null;
    try {
      const callback = await this.api.post<Callback>("/api/v1/callbacks", {
        number: String(data.get("number") ?? ""),
        reason: String(data.get("reason") ?? ""),
        consent: data.get("consent") === "on",
        slot_start: slot?.start ?? null,
        slot_end: slot?.end ?? null,
        conversation_id: this.conversationId,
        page_url: location.href.slice(0, 2000),
        page_title: document.title.slice(0, 300),
      });
      this.emit(callback);
    } catch (error) {
      this.fail(error);
    } finally {
      this.busy = false;
    }
  }

  private async changeTime(event: Event): Promise<void> {
    event.preventDefault();
    if (this.busy || !this.callback) return;
    const slot = this.chosenSlot();
    this.busy = true;
    this.error = this.errorCode = null;
    try {
      const callback = await this.api.put<Callback>(`/api/v1/callbacks/${encodeURIComponent(this.callback.id)}/time`, {
        slot_start: slot?.start ?? null,
        slot_end: slot?.end ?? null,
      });
      this.editing = false;
      this.emit(callback);
    } catch (error) {
      this.fail(error);
    } finally {
      this.busy = false;
    }
  }

  private async cancel(): Promise<void> {
    if (this.busy || !this.callback) return;
    this.busy = true;
    this.error = this.errorCode = null;
    try {
      this.emit(await this.api.post<Callback>(`/api/v1/callbacks/${encodeURIComponent(this.callback.id)}/cancel`));
      this.editing = false;
    } catch (error) {
      this.fail(error);
    } finally {
      this.busy = false;
    }
  }

  override render() {
    const s = callbackStrings(this.language);
    const callback = this.callback;
    const body = callback && (!isOpen(callback) || !this.editing) ? this.renderStatus(callback) : this.renderForm(callback);
    return html`
      <div class="callback" data-testid="callback">
        ${body}
        <button type="button" class="link" data-testid="callback-back"
          @click=${() => this.dispatchEvent(new CustomEvent("relais-callback-close", { bubbles: true, composed: true }))}>${s.back}</button>
      </div>
    `;
  }

  private renderStatus(callback: Callback) {
    const s = callbackStrings(this.language);
    const number = spacedNumber(callback.number);
    const attempt = callback.attempts.length;
    let text: string;
    let detail: string | null = null;
    switch (callback.status) {
      case "booked": {
        const started = callback.slot_start && Date.parse(callback.slot_start) <= this.now;
        text = callback.slot_start && callback.slot_end
          ? s.booked(number, slotLabel({ start: callback.slot_start, end: callback.slot_end }, this.language, true))
          : s.waiting(number);
        if (started) detail = s.slotStarted;
        break;
      }
      case "waiting":
        text = s.waiting(number);
        if (this.place) {
          const minutes = this.place.waitS === null ? null : Math.max(1, Math.round(this.place.waitS / 60));
          detail = s.place(this.place.position, minutes);
        }
        break;
      case "calling":
        text = s.calling(number);
        break;
      case "retry":
        text = s.retry(callback.next_attempt_at ? timeLabel(callback.next_attempt_at, this.language) : "…", attempt + 1, callback.max_attempts);
        break;
      default:
        text = s.done[callback.outcome ?? "cancelled"];
    }
    const waiting = isOpen(callback) && callback.status !== "calling";
    return html`
      <h3>${s.callbackTitle}</h3>
      <p class="status-text" role="status" tabindex="-1" data-testid="callback-status">${text}</p>
      ${detail ? html`<p class="place" role="status" data-testid="callback-place">${detail}</p>` : nothing}
      ${callback.reason ? html`<p class="muted">${callback.reason}</p>` : nothing}
      ${this.error ? html`<p class="error" role="alert" data-testid="callback-error">${this.error}</p>` : nothing}
      ${waiting
        ? html`<div class="actions">
            <button type="button" class="secondary" data-testid="callback-change" ?disabled=${this.busy}
              @click=${() => (this.editing = true)}>${s.changeTime}</button>
            <button type="button" class="secondary danger" data-testid="callback-cancel" ?disabled=${this.busy}
              @click=${() => void this.cancel()}>${s.cancelCallback}</button>
          </div>`
        : nothing}
      ${isOpen(callback)
        ? nothing
        : html`<button type="button" class="primary" data-testid="callback-new" @click=${() => this.emit(null)}>${s.newRequest}</button>`}
    `;
  }

  /** A new request (`callback` null), or a new time for one waiting. */
  private renderForm(callback: Callback | null) {
    const s = callbackStrings(this.language);
    const numberError = this.errorCode !== null && NUMBER_ERRORS.has(this.errorCode);
    return html`
      <form data-testid="callback-form" aria-labelledby="cb-title"
        @submit=${(e: Event) => void (callback ? this.changeTime(e) : this.submit(e))}>
        <h3 id="cb-title">${callback ? s.changeTime : s.callbackTitle}</h3>
        ${callback
          ? nothing
          : html`<p class="muted">${s.callbackIntro}</p>
            <label for="cb-number">${s.phone}</label>
            <input id="cb-number" name="number" type="tel" required maxlength="40" autocomplete="tel" inputmode="tel"
              data-testid="callback-number" aria-describedby=${numberError ? "cb-hint cb-error" : "cb-hint"}
              aria-invalid=${numberError ? "true" : "false"} />
            <p id="cb-hint" class="hint">${s.phoneHint}</p>
            <label for="cb-reason">${s.reason}</label>
            <textarea id="cb-reason" name="reason" rows="2" maxlength="500" data-testid="callback-reason"></textarea>`}
        ${this.renderWhen()}
        ${callback
          ? nothing
          : html`<label class="consent"><input type="checkbox" name="consent" required data-testid="callback-consent" />
              <span>${s.consent}</span></label>`}
        ${this.error ? html`<p id="cb-error" class="error" role="alert" data-testid="callback-error">${this.error}</p>` : nothing}
        <div class="actions">
          <button class="primary" type="submit" data-testid="callback-submit" ?disabled=${this.busy || !this.slots}>
            ${this.busy ? s.sending : callback ? s.saveTime : s.submit}</button>
          ${callback
            ? html`<button type="button" class="secondary" @click=${() => (this.editing = false)}>${s.keepTime}</button>`
            : nothing}
        </div>
      </form>
    `;
  }

  private renderWhen() {
    const s = callbackStrings(this.language);
    const slots = this.slots;
    if (!slots) return html`<p class="muted" role="status">${s.loading}</p>`;
    const days = [...new Set(slots.slots.map((x) => this.dayKey(x.start)))];
    const ofDay = slots.slots.filter((x) => this.dayKey(x.start) === this.day);
    return html`
      <fieldset>
        <legend>${s.when}</legend>
        <label class="choice"><input type="radio" name="when" value="asap" data-testid="callback-asap"
          .checked=${this.when === "asap"} ?disabled=${!slots.open_now}
          @change=${() => (this.when = "asap")} />${slots.open_now ? s.asap : s.asapClosed}</label>
        <label class="choice"><input type="radio" name="when" value="slot" data-testid="callback-at-time"
          .checked=${this.when === "slot"} ?disabled=${!slots.slots.length}
          @change=${() => (this.when = "slot")} />${s.atTime}</label>
        ${this.when === "slot"
          ? slots.slots.length
            ? html`<div class="pick">
                <label>${s.day}<select data-testid="callback-day" .value=${this.day} @change=${(e: Event) => {
                  this.day = (e.target as HTMLSelectElement).value;
                  const first = slots.slots.find((x) => this.dayKey(x.start) === this.day);
                  if (first) this.slotStart = first.start;
                }}>${days.map((d) => html`<option value=${d} ?selected=${d === this.day}>${d}</option>`)}</select></label>
                <label>${s.slot}<select data-testid="callback-slot" .value=${this.slotStart}
                  @change=${(e: Event) => (this.slotStart = (e.target as HTMLSelectElement).value)}>
                  ${ofDay.map((x) => html`<option value=${x.start} ?selected=${x.start === this.slotStart}>${slotLabel(x, this.language)}</option>`)}
                </select></label>
              </div>`
            : html`<p class="muted">${s.noSlots}</p>`
          : nothing}
      </fieldset>
    `;
  }
}

customElements.define("relais-callback-form", RelaisCallbackForm);

declare global {
  interface HTMLElementTagNameMap {
    "relais-callback-form": RelaisCallbackForm;
  }
  interface HTMLElementEventMap {
    "relais-callback": CustomEvent<CallbackDetail>;
  }
}

/** A telephone handset, for the buttons that open the callback form. */
export const phoneIcon = svg`<svg viewBox="0 0 24 24" width="16" height="16" aria-hidden="true" fill="currentColor"><path d="M6.6 10.8a15.1 15.1 0 0 0 6.6 6.6l2.2-2.2a1 1 0 0 1 1-.25 11.4 11.4 0 0 0 3.6.57 1 1 0 0 1 1 1V20a1 1 0 0 1-1 1A17 17 0 0 1 3 4a1 1 0 0 1 1-1h3.5a1 1 0 0 1 1 1c0 1.25.2 2.45.57 3.6a1 1 0 0 1-.25 1l-2.2 2.2z"/></svg>`;
