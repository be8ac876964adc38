import { LitElement, html, nothing, type PropertyValues } from "lit";
import { unsafeHTML } from "lit/directives/unsafe-html.js";
import { strings, type Strings } from "../i18n.js";
import { clipIcon } from "../icons.js";
import type { Attachment, ShownMessage } from "../types.js";
import { styles } from "./conversation-view.styles.js";

/**
 * The messages of one conversation, the same on both sides: the viewer's own messages on the
 * right, the other side's on the left, system notes centred.
 *
 * Only `message.html` is inserted as HTML: the server rendered and sanitized it (nh3). Every
 * other field is text.
 *
 * Attachments are download links. A side whose links need more than cookies (the widget sends
 * a bearer token) handles `relais-download` and calls `preventDefault()` on it.
 *
 * @event relais-retry - detail `RetryDetail`: the viewer asks to send a failed message again.
 * @event relais-download - detail `DownloadDetail`, cancelable: the viewer opens an attachment.
 * @csspart log - the scrolling list.
 * @csspart typing - the "… is typing" line.
 */
export class RelaisConversationView extends LitElement {
  static override styles = styles;
  static override properties = {
    messages: { attribute: false },
    me: {},
    typingName: { attribute: false },
    otherReadSeq: { type: Number },
    strings: { attribute: false },
    emptyText: { attribute: false },
    base: {},
  };

  messages: ShownMessage[] = [];
  me: "visitor" | "agent" = "visitor";
  /** Who is typing on the other side: undefined when nobody is. */
  typingName: string | null | undefined = undefined;
  otherReadSeq = 0;
  strings: Strings = strings("en");
  emptyText = "";
  /** The server's origin, for attachment links ("" on the same origin). */
  base = "";

  private stickToBottom = true;

  protected override willUpdate(): void {
    const log = this.renderRoot.querySelector?.(".log");
    if (log) this.stickToBottom = log.scrollHeight - log.scrollTop - log.clientHeight < 40;
  }

  protected override updated(changed: PropertyValues<this>): void {
    if (changed.has("messages") && this.stickToBottom) {
      const log = this.renderRoot.querySelector(".log");
      if (log) log.scrollTop = log.scrollHeight;
    }
  }

  private lastSeenSeq(): number {
    let last = -1;
    for (const m of this.messages) {
      if (m.author_kind === this.me && m.state === "sent" && m.seq <= this.otherReadSeq) last = m.seq;
    }
    return last;
  }

  override render() {
    const s = this.strings;
    const seen = this.lastSeenSeq();
    return html`
      <div class="log" part="log" role="log" aria-live="polite" aria-relevant="additions" tabindex="0">
        ${this.messages.length === 0 && this.emptyText ? html`<p class="empty">${this.emptyText}</p>` : nothing}
        ${this.messages.map((m) => this.renderMessage(m, s, seen))}
      </div>
      <div class="typing" part="typing" data-testid="typing" aria-live="polite">
        ${this.typingName !== undefined ? s.typing(this.typingName || s.someone) : ""}
      </div>
    `;
  }

  private renderMessage(m: ShownMessage, s: Strings, seen: number) {
    const mine = m.author_kind === this.me;
    const kind = m.author_kind === "system" ? "system" : mine ? "mine" : "theirs";
    const author = mine ? s.you : m.author_name || (m.author_kind === "agent" ? s.agent : s.visitor);
    return html`
      <div class="row ${kind}" data-testid="message" data-seq=${m.state === "sent" ? String(m.seq) : ""}
        data-author-kind=${m.author_kind} data-state=${m.state}>
        ${kind === "theirs" ? html`<span class="author">${author}</span>` : nothing}
        <div class="bubble">
          ${m.html ? unsafeHTML(m.html) : html`<span class="plain">${m.body}</span>`}
          ${m.attachments.length
            ? html`<div class="files">${m.attachments.map((a) => this.renderAttachment(a))}</div>`
            : nothing}
        </div>
        ${m.state === "pending" ? html`<span class="meta">${s.sending}</span>` : nothing}
        ${m.state === "failed"
          ? html`<span class="meta failed" role="alert">${s.failed}${m.error ? ` (${m.error})` : ""}
              <button type="button" @click=${() => this.retry(m)}>${s.retry}</button></span>`
          : nothing}
        ${mine && m.state === "sent" && m.seq === seen
          ? html`<span class="meta" data-testid="read-receipt">${s.seen}</span>`
          : nothing}
      </div>
    `;
  }

  private renderAttachment(attachment: Attachment) {
    return html`<a href=${this.base + attachment.url} download=${attachment.filename} rel="noopener"
      @click=${(e: Event) => this.download(e, attachment)}>${clipIcon} ${attachment.filename}
      <span class="size">(${formatSize(attachment.size)})</span></a>`;
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

export interface RetryDetail {
  clientId: string;
}

export interface DownloadDetail {
  attachment: Attachment;
}

/** A file's size as people read it: 900 B, 12 KB, 1.5 MB. */
export function formatSize(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < 1024 * 1024) return `${Math.round(bytes / 1024)} KB`;
  return `${(bytes / 1024 / 1024).toFixed(1)} MB`;
}

customElements.define("relais-conversation-view", RelaisConversationView);

declare global {
  interface HTMLElementTagNameMap {
    "relais-conversation-view": RelaisConversationView;
  }
  interface HTMLElementEventMap {
    "relais-retry": CustomEvent<RetryDetail>;
    "relais-download": CustomEvent<DownloadDetail>;
  }
}
