import { LitElement, html, nothing, type PropertyValues } from "lit";
import { errorText, type Api } from "../../shared/api.js";
import {
  callbackStrings,
  slotLabel,
  spacedNumber,
  timeLabel,
  type Callback,
  type CallbackOutcome,
} from "../../shared/callback.js";
import { pageLang, type Lang } from "../../shared/i18n.js";
import type { Task } from "../../shared/types.js";
import { styles } from "./callback-panel.styles.js";

export interface CallbackRecordedDetail {
  callback: Callback;
}

const OUTCOMES: readonly CallbackOutcome[] = ["reached", "no_answer", "busy", "wrong_number"];

/**
 * A callback the agent has accepted (its task `assigned` to them): who to call and why, the
 * call itself (placed through the server's dialler: by default a `tel:` link that the agent's
 * phone or softphone opens), the earlier attempts, and how this call went.
 *
 * Dialling is asked once per accepted task (the server returns the same call if asked again,
 * after a reload). Recording the outcome ends this attempt: the task leaves the agent (back to
 * the queue later for no answer or busy) and the panel goes with it.
 *
 * @event relais-callback-recorded - `CallbackRecordedDetail`: the outcome was recorded.
 * @csspart card - the panel's box.
 */
export class RelaisCallbackPanel extends LitElement {
  static override styles = styles;
  static override properties = {
    task: { attribute: false },
    api: { attribute: false },
    language: { attribute: false },
    callback: { state: true },
    call: { state: true },
    busy: { state: true },
    error: { state: true },
  };

  task!: Task;
  api!: Api;
  language: Lang = pageLang();
  callback: Callback | null = null;
  call: string | null = null;
  busy = false;
  error: string | null = null;
  private dialled: string | null = null;

  protected override willUpdate(changed: PropertyValues<this>): void {
    if (changed.has("task") && this.task && this.task.id !== this.dialled && this.task.state === "assigned") {
      this.dialled = this.task.id;
      void this.dial();
    }
  }

  private callbackId(): string | null {
    const id = this.task.attributes.callback_id;
    return typeof id === "string" ? id : null;
  }

  private async dial(): Promise<void> {
    const id = this.callbackId();
    if (!id) {
      this.error = "This task has no callback request.";
      return;
    }
    this.error = null;
    try {
      const answer = await this.api.post<{ call: string; callback: Callback }>(`/api/v1/callbacks/${encodeURIComponent(id)}/dial`);
      this.call = answer.call;
      this.callback = answer.callback;
    } catch (error) {
      console.error("relais: dial", error);
      this.error = errorText(error);
    }
  }

  private async record(outcome: CallbackOutcome): Promise<void> {
    const id = this.callbackId();
    if (!id || this.busy) return;
    this.busy = true;
    this.error = null;
    try {
      const callback = await this.api.post<Callback>(`/api/v1/callbacks/${encodeURIComponent(id)}/outcome`, { outcome });
      this.callback = callback;
      this.dispatchEvent(new CustomEvent<CallbackRecordedDetail>("relais-callback-recorded", { detail: { callback }, bubbles: true, composed: true }));
    } catch (error) {
      console.error("relais: outcome", error);
      this.error = errorText(error);
    } finally {
      this.busy = false;
    }
  }

  override render() {
    if (!this.task) return nothing;
    const s = callbackStrings(this.language);
    const a = this.task.attributes;
    const phone = this.callback?.number ?? (typeof a.phone === "string" ? a.phone : "");
    const number = spacedNumber(phone);
    const callback = this.callback;
    const attempt = callback?.attempts.length ?? this.task.attempts + 1;
    const earlier = callback?.attempts.filter((x) => x.outcome) ?? [];
    const slot = callback?.slot_start && callback.slot_end ? slotLabel({ start: callback.slot_start, end: callback.slot_end }, this.language, true) : null;
    const page = typeof a.page_title === "string" && a.page_title ? a.page_title : typeof a.page_url === "string" ? a.page_url : null;
    return html`
      <section part="card" class="card" data-testid="callback-panel" data-task-id=${this.task.id} aria-labelledby="cb-title">
        <div class="head">
          <h2 id="cb-title">${s.callbackPanel}</h2>
          ${callback ? html`<span class="attempt" data-testid="callback-attempt">${s.attemptOf(attempt, callback.max_attempts)}</span>` : nothing}
        </div>
        ${this.call
          ? html`<a class="call" href=${this.call} data-testid="callback-call">${s.callNow(number)}</a>`
          : html`<p class="number" data-testid="callback-number">${number}</p>
            ${this.error ? nothing : html`<p class="muted" role="status">${s.dialling}</p>`}`}
        ${typeof a.reason === "string" && a.reason ? html`<p class="reason" data-testid="callback-reason">${a.reason}</p>` : nothing}
        <p class="muted">${s.askedFor(slot ?? s.asapShort)}${page ? html` · <span title=${String(a.page_url ?? "")}>${page}</span>` : nothing}</p>
        ${earlier.length
          ? html`<h3>${s.previousAttempts}</h3>
            <ol class="attempts">${earlier.map((x) => html`<li>${timeLabel(x.started_at, this.language)} — ${s.outcomes[x.outcome ?? "no_answer"]}</li>`)}</ol>`
          : nothing}
        <p id="cb-question" class="question">${s.outcomeQuestion}</p>
        <div class="outcomes" role="group" aria-labelledby="cb-question">
          ${OUTCOMES.map((o) => html`<button type="button" class="outcome ${o}" data-testid="outcome-${o}" ?disabled=${this.busy}
            @click=${() => void this.record(o)}>${s.outcomes[o]}</button>`)}
        </div>
        ${this.error ? html`<p class="error" role="alert" data-testid="callback-error">${this.error}
          ${this.call ? nothing : html`<button type="button" class="retry" @click=${() => void this.dial()}>↻</button>`}</p>` : nothing}
      </section>
    `;
  }
}

customElements.define("relais-callback-panel", RelaisCallbackPanel);

declare global {
  interface HTMLElementTagNameMap {
    "relais-callback-panel": RelaisCallbackPanel;
  }
  interface HTMLElementEventMap {
    "relais-callback-recorded": CustomEvent<CallbackRecordedDetail>;
  }
}
