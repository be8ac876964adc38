import { LitElement, html, nothing } from "lit";
import type { Strings } from "../../shared/i18n.js";
import type { Context, PageView } from "../../shared/types.js";
import { styles } from "./contact-panel.styles.js";

/** The customer beside the conversation: who, what before, where on the site now. */
export class RelaisContactPanel extends LitElement {
  static override properties = {
    context: { attribute: false },
    strings: { attribute: false },
  };
  static override styles = styles;

  context: Context | null = null;
  strings!: Strings;

  override render() {
    const c = this.context;
    const s = this.strings;
    if (!c) return nothing;
    const visitor = c.visitor;
    return html`
      <section data-testid="contact-panel">
        <h2>${s.contact}</h2>
        ${c.contact
          ? html`<p class="name">${c.contact.name ?? c.contact.external_id}</p>
              ${c.contact.emails.map((e) => html`<p class="muted">${e}</p>`)}
              ${c.contact.phones.map((p) => html`<p class="muted">${p}</p>`)}`
          : html`<p class="name">${visitor?.claimed_name ?? s.anonymous}
              ${visitor?.claimed_name ? html`<span class="unverified">(${s.unverified})</span>` : nothing}</p>`}
        ${c.reply_to_email
          ? html`<p class="muted">${s.replyTo}: ${c.reply_to_email} <span class="unverified">(${s.unverified})</span></p>`
          : nothing}
        <h2>${s.currentPage}</h2>
        ${c.current_page ? html`<p>${this.page(c.current_page)}</p>` : html`<p class="muted">—</p>`}
        <h2>${s.path}</h2>
        <ul>
          ${c.pages.map((p) => html`<li>${this.page(p)}
            <span class="muted"> · ${p.seconds !== null ? s.onPage(p.seconds) : s.now}</span></li>`)}
        </ul>
        <h2>${s.history}</h2>
        ${c.past_conversations.length
          ? html`<ul>${c.past_conversations.map(
              (p) => html`<li>${new Date(p.created_at).toLocaleDateString()} · ${p.status}
                ${p.assignee_name ? html`· ${p.assignee_name}` : nothing}${p.rating ? html` · ${"★".repeat(p.rating)}` : nothing}</li>`,
            )}</ul>`
          : html`<p class="muted">${s.noHistory}</p>`}
      </section>
    `;
  }

  private page(p: PageView) {
    // Shown as text, never followed from the desk: the URL comes from the visitor's browser.
    return html`<span title=${p.url}>${p.title || p.url}</span>`;
  }
}

customElements.define("relais-contact-panel", RelaisContactPanel);
