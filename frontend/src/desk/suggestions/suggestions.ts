import { LitElement, html, nothing, type PropertyValues } from "lit";
import { ApiError, errorText, type Api } from "../../shared/api.js";
import { strings, type Strings } from "../../shared/i18n.js";
import type { Suggestion } from "../../shared/types.js";
import { styles } from "./suggestions.styles.js";

export interface SuggestionDetail {
  text: string;
}

/**
 * Answers to start from for an e-mail conversation (GET /api/v1/conversations/{id}/suggestions):
 * past answers to similar questions and knowledge-base articles, best first. Picking one hands
 * its text to the composer; nothing is ever sent from here.
 *
 * Read again when `refreshKey` changes (the desk passes the customer's latest message).
 *
 * @event relais-suggestion - detail `SuggestionDetail`: the agent picked this answer.
 */
export class RelaisSuggestions extends LitElement {
  static override styles = styles;
  static override properties = {
    api: { attribute: false },
    conversationId: { attribute: false },
    refreshKey: { attribute: false },
    strings: { attribute: false },
    items: { state: true },
    loaded: { state: true },
    error: { state: true },
    open: { state: true },
  };

  api: Api | null = null;
  conversationId: string | null = null;
  refreshKey: unknown = null;
  strings: Strings = strings("en");
  items: Suggestion[] = [];
  loaded = false;
  error: string | null = null;
  open = true;

  /** The conversation the items shown belong to. */
  private shownFor: string | null = null;
  private asked = 0;

  protected override willUpdate(changed: PropertyValues<this>): void {
    if (changed.has("conversationId") || changed.has("refreshKey") || changed.has("api")) void this.load();
  }

  private async load(): Promise<void> {
    const id = this.conversationId;
    if (!this.api || !id) return;
    const asked = ++this.asked;
    if (this.shownFor !== id) {
      // Another conversation: its predecessor's answers must not be picked meanwhile.
      this.items = [];
      this.loaded = false;
      this.shownFor = id;
    }
    try {
      const items = await this.api.get<Suggestion[]>(`/api/v1/conversations/${id}/suggestions`);
      if (asked !== this.asked) return; // a later question is on its way
      this.items = items.filter((i) => typeof i.text === "string" && i.text.trim());
      this.error = null;
    } catch (error) {
      if (asked !== this.asked) return;
      this.items = [];
      // None to give (or no suggestions on this server): said as "none", not as a fault.
      this.error = error instanceof ApiError && error.status === 404 ? null : errorText(error);
    }
    this.loaded = true;
  }

  override render() {
    const s = this.strings;
    return html`
      <section data-testid="suggestions" aria-labelledby="title">
        <header>
          <h3 id="title">${s.suggestions}${this.items.length ? html` <span class="count">(${this.items.length})</span>` : nothing}</h3>
          <button type="button" class="toggle" data-testid="suggestions-toggle" aria-expanded=${this.open ? "true" : "false"}
            aria-controls="list" @click=${() => (this.open = !this.open)}>${this.open ? s.hideSuggestions : s.showSuggestions}</button>
        </header>
        ${this.open ? this.renderList(s) : nothing}
      </section>
    `;
  }

  private renderList(s: Strings) {
    if (this.error) return html`<p class="muted error" role="alert">${this.error}</p>`;
    if (!this.loaded) return nothing;
    if (!this.items.length) return html`<p class="muted" data-testid="no-suggestions">${s.noSuggestions}</p>`;
    return html`<ul id="list">${this.items.map((item) => html`<li>
      <button type="button" data-testid="suggestion" title=${s.useSuggestion} @click=${() => this.pick(item)}>
        <span class="text">${item.text.replace(/\s+/g, " ").trim()}</span>
        <span class="meta">${s.suggestionSource[item.source] ?? item.source} · ${s.suggestionUses(item.uses)}
          · ${s.suggestionScore(Math.round(Math.max(0, Math.min(1, item.score)) * 100))}</span>
      </button></li>`)}</ul>`;
  }

  private pick(item: Suggestion): void {
    const detail: SuggestionDetail = { text: item.text };
    this.dispatchEvent(new CustomEvent<SuggestionDetail>("relais-suggestion", { detail, bubbles: true, composed: true }));
  }
}

customElements.define("relais-suggestions", RelaisSuggestions);

declare global {
  interface HTMLElementTagNameMap {
    "relais-suggestions": RelaisSuggestions;
  }
  interface HTMLElementEventMap {
    "relais-suggestion": CustomEvent<SuggestionDetail>;
  }
}
