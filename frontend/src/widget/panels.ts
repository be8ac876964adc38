// The widget's panels besides the conversation: the offline form, and the end of a conversation
// (rating, transcript, a new conversation). Plain templates: the widget owns their state.

import { html, nothing } from "lit";
import type { Strings } from "../shared/i18n.js";

export interface OfflineHandlers {
  submit: (form: HTMLFormElement) => void;
}

export function offlineForm(s: Strings, sent: boolean, error: string | null, h: OfflineHandlers) {
  if (sent) return html`<div class="offline"><p class="note" role="status">${s.offlineThanks}</p></div>`;
  return html`
    <form class="offline" data-testid="offline-form" @submit=${(e: Event) => {
      e.preventDefault();
      h.submit(e.target as HTMLFormElement);
    }}>
      <p class="note">${s.offlineIntro}</p>
      <label>${s.name}<input name="name" required maxlength="200" autocomplete="name" /></label>
      <label>${s.email}<input name="email" type="email" required maxlength="254" autocomplete="email" /></label>
      <label>${s.message}<textarea name="body" required rows="4" maxlength="4000"></textarea></label>
      ${error ? html`<p class="error" role="alert">${error}</p>` : nothing}
      <button class="primary" type="submit">${s.leaveMessage}</button>
    </form>
  `;
}

export interface EndState {
  rating: number | null;
  transcriptSent: boolean;
  error: string | null;
}

export interface EndHandlers {
  rate: (score: number) => void;
  transcript: (email: string) => void;
  restart: () => void;
}

export function endPanel(s: Strings, state: EndState, h: EndHandlers) {
  return html`
    <div class="end" data-testid="rating">
      <p class="note">${s.resolved} ${state.rating ? s.thanksRating : s.rateUs}</p>
      <div class="stars" role="radiogroup" aria-label=${s.rateUs}>
        ${[1, 2, 3, 4, 5].map(
          (n) => html`<button type="button" role="radio" aria-checked=${state.rating === n ? "true" : "false"}
            aria-label=${s.stars(n)} class=${state.rating && n <= state.rating ? "on" : ""}
            @click=${() => h.rate(n)}>★</button>`,
        )}
      </div>
      ${state.transcriptSent
        ? html`<p class="note" role="status">${s.transcriptSent}</p>`
        : html`<form class="row" @submit=${(e: Event) => {
            e.preventDefault();
            const input = (e.target as HTMLFormElement).elements.namedItem("email") as HTMLInputElement;
            h.transcript(input.value);
          }}>
            <input name="email" type="email" required data-testid="transcript-email" aria-label=${s.transcript}
              placeholder=${s.transcript} />
            <button class="secondary" type="submit">${s.request}</button>
          </form>`}
      ${state.error ? html`<p class="error" role="alert">${state.error}</p>` : nothing}
      <button class="primary" type="button" @click=${h.restart}>${s.newConversation}</button>
    </div>
  `;
}
