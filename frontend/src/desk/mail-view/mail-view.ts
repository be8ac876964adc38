import { LitElement, html, nothing, type PropertyValues } from "lit";
import { unsafeHTML } from "lit/directives/unsafe-html.js";
import { formatSize, type DownloadDetail, type RetryDetail } from "../../shared/conversation-view/conversation-view.js";
import { strings, type Lang, type Strings } from "../../shared/i18n.js";
import { clipIcon, mailIcon } from "../../shared/icons.js";
import type { Attachment, Envelope, MailThread, ShownMessage } from "../../shared/types.js";
import { styles } from "./mail-view.styles.js";

/**
 * An e-mail conversation as mail: its subject and `[#n]`, each message with from, to, cc and
 * date, the body, the attachments, and for an answer where its mail stands (waiting to be sent,
 * sent, not delivered, bounced); under them, to whom and with which subject the answer goes.
 *
 * Only `message.html` is inserted as HTML: the server sanitized it (nh3) and folded the quoted
 * history and signature into `<details class="relais-quoted">`, which stay hidden behind one
 * "Show quoted text" button per message. Every other field (addresses, subjects, names, the
 * body of a message not stored yet) is text.
 *
 * @event relais-retry - detail `RetryDetail`: send a failed message again.
 * @event relais-download - detail `DownloadDetail`, cancelable: an attachment is opened.
 * @slot assist - between the mails and the answer's line: help to write it (suggestions).
 * @csspart log - the scrolling list of mails.
 * @csspart reply - the line saying where the answer goes.
 */
export class RelaisMailView extends LitElement {
  static override styles = styles;
  static override properties = {
    messages: { attribute: false },
    thread: { attribute: false },
    subject: {},
    strings: { attribute: false },
    uiLang: {},
    closed: { type: Boolean },
    base: {},
    quotedOpen: { state: true },
  };

  messages: ShownMessage[] = [];
  /** The mail side (GET …/mail); null until read: messages then show without envelopes. */
  thread: MailThread | null = null;
  /** The conversation's subject, shown until the thread is read. */
  subject: string | null = null;
  strings: Strings = strings("en");
  /** The desk's language, for dates. */
  uiLang: Lang = "en";
  /** Resolved: no answer to write, so no line saying where it would go. */
  closed = false;
  /** The server's origin, for attachment links ("" on the same origin). */
  base = "";
  /** Messages whose quoted history is shown. */
  quotedOpen = new Set<string>();

  private stickToBottom = true;

  protected override willUpdate(): void {
    const log = this.renderRoot.querySelector?.(".log");
    if (log) this.stickToBottom = log.scrollHeight - log.scrollTop - log.clientHeight < 40;
  }

  protected override updated(changed: PropertyValues<this>): void {
    // The folded parts follow the toggle of their message (their summary is hidden).
    for (const mail of this.renderRoot.querySelectorAll<HTMLElement>("[data-testid=mail]")) {
      const open = this.quotedOpen.has(mail.dataset.messageId ?? "");
      for (const details of mail.querySelectorAll<HTMLDetailsElement>(".body details.relais-quoted")) details.open = open;
    }
    if (changed.has("messages") && this.stickToBottom) {
      const log = this.renderRoot.querySelector(".log");
      if (log) log.scrollTop = log.scrollHeight;
    }
  }

  override render() {
    const s = this.strings;
    const subject = this.thread?.subject || this.subject || s.noSubject;
    const envelopes = new Map((this.thread?.envelopes ?? []).map((e) => [e.message_id, e]));
    return html`
      <header class="subject">
        <h2 data-testid="mail-subject">${subject}</h2>
        ${this.thread ? html`<span class="reference" data-testid="mail-reference">${this.thread.reference}</span>` : nothing}
      </header>
      <div class="log" part="log" role="log" aria-live="polite" aria-relevant="additions" tabindex="0">
        ${this.messages.map((m) => (m.author_kind === "system"
          ? html`<p class="note" data-testid="message" data-author-kind="system">${m.body}</p>`
          : this.renderMail(m, envelopes.get(m.id))))}
      </div>
      <slot name="assist"></slot>
      ${this.thread && !this.closed ? this.renderReply(this.thread) : nothing}
    `;
  }

  private renderMail(m: ShownMessage, envelope: Envelope | undefined) {
    const s = this.strings;
    const outgoing = m.author_kind === "agent";
    const name = envelope?.from_name ?? m.author_name ?? (outgoing ? s.agent : s.visitor);
    const address = envelope?.from_address;
    const date = envelope?.date ?? (m.state === "sent" ? m.created_at : null);
    const folded = m.html.includes("relais-quoted");
    const open = this.quotedOpen.has(m.id);
    return html`
      <article class="mail ${outgoing ? "out" : "in"}" data-testid="mail" data-message-id=${m.id}
        data-seq=${m.state === "sent" ? String(m.seq) : ""} data-state=${m.state}>
        <header>
          <div class="from"><strong>${name}</strong>${address ? html` <span class="address">&lt;${address}&gt;</span>` : nothing}</div>
          ${date ? html`<time datetime=${date} data-testid="mail-date">${this.formatDate(date)}</time>` : nothing}
          ${envelope?.to.length ? html`<div class="line" data-testid="mail-to"><span class="label">${s.mailTo}</span> ${envelope.to.join(", ")}</div>` : nothing}
          ${envelope?.cc.length ? html`<div class="line" data-testid="mail-cc"><span class="label">${s.mailCc}</span> ${envelope.cc.join(", ")}</div>` : nothing}
          ${outgoing ? this.renderState(m, envelope) : nothing}
        </header>
        <div class="body">${m.html ? unsafeHTML(m.html) : html`<span class="plain">${m.body}</span>`}</div>
        ${folded
          ? html`<button type="button" class="quoted" data-testid="toggle-quoted" aria-expanded=${open ? "true" : "false"}
              @click=${() => this.toggleQuoted(m.id)}>${open ? s.hideQuoted : s.showQuoted}</button>`
          : nothing}
        ${m.attachments.length
          ? html`<ul class="files" data-testid="mail-attachments">${m.attachments.map((a) => this.renderAttachment(a))}</ul>`
          : nothing}
      </article>
    `;
  }

  /** An answer: sending (not stored yet), failed to store, or its mail's state in the outbox. */
  private renderState(m: ShownMessage, envelope: Envelope | undefined) {
    const s = this.strings;
    if (m.state === "pending") return html`<div class="state pending" data-testid="mail-state">${s.sending}</div>`;
    if (m.state === "failed") {
      return html`<div class="state failed" role="alert" data-testid="mail-state">${s.failed}${m.error ? ` (${m.error})` : ""}
        <button type="button" @click=${() => this.retry(m)}>${s.retry}</button></div>`;
    }
    if (!envelope) return nothing;
    return html`<div class="state ${envelope.state}" data-testid="mail-state" data-state=${envelope.state}
      title=${envelope.error ?? ""}>${s.mailState[envelope.state]}${envelope.error ? html` — <span class="error">${envelope.error}</span>` : nothing}</div>`;
  }

  private renderReply(thread: MailThread) {
    const s = this.strings;
    const to = thread.reply_to_name ? `${thread.reply_to_name} <${thread.reply_to}>` : thread.reply_to;
    return html`<div class="reply" part="reply" data-testid="mail-reply">
      <div data-testid="mail-reply-to">${mailIcon} ${s.replyByEmail(to)}</div>
      <div class="line"><span class="label">${s.subjectLabel}</span> <span data-testid="mail-reply-subject">${thread.reply_subject}</span></div>
    </div>`;
  }

  private renderAttachment(attachment: Attachment) {
    return html`<li><a href=${this.base + attachment.url} download=${attachment.filename} rel="noopener"
      @click=${(e: Event) => this.download(e, attachment)}>${clipIcon} ${attachment.filename}</a>
      <span class="size">${formatSize(attachment.size)}</span></li>`;
  }

  private toggleQuoted(id: string): void {
    const open = new Set(this.quotedOpen);
    if (!open.delete(id)) open.add(id);
    this.quotedOpen = open;
  }

  private formatDate(iso: string): string {
    const date = new Date(iso);
    if (Number.isNaN(date.getTime())) return iso;
    return new Intl.DateTimeFormat(this.uiLang, { dateStyle: "medium", timeStyle: "short" }).format(date);
  }

  private retry(m: ShownMessage): void {
    if (!m.client_id) return;
    const detail: RetryDetail = { clientId: m.client_id };
    this.dispatchEvent(new CustomEvent<RetryDetail>("relais-retry", { detail, bubbles: true, composed: true }));
  }

  private download(event: Event, attachment: Attachment): void {
    const detail: DownloadDetail = { attachment };
    const ask = new CustomEvent<DownloadDetail>("relais-download", { detail, bubbles: true, composed: true, cancelable: true });
    if (!this.dispatchEvent(ask)) event.preventDefault();
  }
}

customElements.define("relais-mail-view", RelaisMailView);

declare global {
  interface HTMLElementTagNameMap {
    "relais-mail-view": RelaisMailView;
  }
}
