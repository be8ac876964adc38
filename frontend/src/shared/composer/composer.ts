import { LitElement, html, nothing } from "lit";
import { strings, type Strings } from "../i18n.js";
import { clipIcon } from "../icons.js";
import { styles } from "./composer.styles.js";

export interface SendDetail {
  body: string;
  files: File[];
}

export interface TypingDetail {
  typing: boolean;
}

export interface DraftDetail {
  value: string;
}

/**
 * The message composer of both sides. Enter sends, Shift+Enter starts a new line (with
 * `multiline`, for an e-mail answer: Enter starts a new line, Ctrl/Cmd+Enter sends). The length
 * so far and the limit show under the text as soon as there is some.
 *
 * @event relais-send - detail `SendDetail`: the text (and files) to send.
 * @event relais-typing - detail `TypingDetail`: started (at most every 3 s) or stopped typing.
 * @event relais-draft - detail `DraftDetail`: the draft changed (to keep it across pages).
 * @csspart input - the text area.
 * @csspart send - the send button.
 */
export class RelaisComposer extends LitElement {
  static override styles = styles;
  static override properties = {
    disabled: { type: Boolean },
    busy: { type: Boolean },
    maxLength: { type: Number },
    multiline: { type: Boolean, reflect: true },
    placeholder: {},
    strings: { attribute: false },
    value: { state: true },
    files: { state: true },
  };

  disabled = false;
  /** Files are being uploaded: nothing more can be sent meanwhile. */
  busy = false;
  maxLength = 4000;
  /** Longer writing (an e-mail answer): Enter starts a new line, Ctrl/Cmd+Enter sends. */
  multiline = false;
  /** The text area's hint and name, when not the strings' usual one. */
  placeholder: string | undefined = undefined;
  strings: Strings = strings("en");
  value = "";
  files: File[] = [];

  private typingSince = 0;
  private idleTimer: number | undefined;

  /** Restores a draft (the widget keeps drafts across page loads). */
  setDraft(text: string): void {
    this.value = text;
  }

  override focus(): void {
    this.renderRoot.querySelector("textarea")?.focus();
  }

  /** Puts a text in the draft (after what is there), to be edited before sending. */
  async insert(text: string): Promise<void> {
    const current = this.value.trimEnd();
    this.value = current ? `${current}\n\n${text}` : text;
    this.dispatchEvent(new CustomEvent<DraftDetail>("relais-draft", { detail: { value: this.value } }));
    await this.updateComplete;
    const area = this.renderRoot.querySelector("textarea");
    if (!area) return;
    area.focus();
    area.setSelectionRange(area.value.length, area.value.length);
  }

  override render() {
    const s = this.strings;
    const tooLong = this.value.length > this.maxLength;
    const empty = !this.value.trim() && this.files.length === 0;
    return html`
      <form @submit=${this.submit}>
        <button type="button" class="attach" aria-label=${s.attach} title=${s.attach}
          ?disabled=${this.disabled} @click=${this.pickFile}>${clipIcon}</button>
        <input type="file" @change=${this.filePicked} aria-hidden="true" tabindex="-1" />
        <textarea part="input" data-testid="composer-input" rows=${this.multiline ? 4 : 1}
          aria-label=${this.placeholder ?? s.placeholder} aria-describedby="count"
          placeholder=${this.placeholder ?? s.placeholder} .value=${this.value} ?disabled=${this.disabled}
          @input=${this.input} @keydown=${this.keydown}></textarea>
        <button class="send" part="send" data-testid="composer-send" type="submit"
          ?disabled=${this.disabled || this.busy || empty || tooLong}>${this.busy ? s.uploading : s.send}</button>
      </form>
      <div class="foot">
        <span class="files">${this.files.length ? html`${clipIcon} ${this.files.map((f) => f.name).join(", ")}
          <button type="button" class="drop" @click=${() => (this.files = [])}>${s.removeFiles}</button>` : nothing}</span>
        <span id="count" class=${tooLong ? "count over" : "count"} role=${tooLong ? "alert" : nothing}
          title=${s.tooLong(this.maxLength)}>${this.value.length ? `${this.value.length} / ${this.maxLength}` : ""}</span>
      </div>
    `;
  }

  private input(event: InputEvent): void {
    this.value = (event.target as HTMLTextAreaElement).value;
    this.dispatchEvent(new CustomEvent<DraftDetail>("relais-draft", { detail: { value: this.value } }));
    const now = Date.now();
    if (now - this.typingSince > 3000) {
      this.typingSince = now;
      this.emitTyping(true);
    }
    window.clearTimeout(this.idleTimer);
    this.idleTimer = window.setTimeout(() => this.stopTyping(), 2500);
  }

  private keydown(event: KeyboardEvent): void {
    if (event.key !== "Enter" || event.isComposing) return;
    if (this.multiline ? event.ctrlKey || event.metaKey : !event.shiftKey) {
      event.preventDefault();
      this.submit(event);
    }
  }

  private submit(event: Event): void {
    event.preventDefault();
    const body = this.value.trim();
    if ((!body && this.files.length === 0) || body.length > this.maxLength || this.disabled || this.busy) return;
    const detail: SendDetail = { body, files: this.files };
    this.value = "";
    this.files = [];
    this.dispatchEvent(new CustomEvent<DraftDetail>("relais-draft", { detail: { value: "" } }));
    this.stopTyping();
    this.dispatchEvent(new CustomEvent<SendDetail>("relais-send", { detail }));
  }

  private stopTyping(): void {
    window.clearTimeout(this.idleTimer);
    if (this.typingSince) {
      this.typingSince = 0;
      this.emitTyping(false);
    }
  }

  private emitTyping(typing: boolean): void {
    this.dispatchEvent(new CustomEvent<TypingDetail>("relais-typing", { detail: { typing } }));
  }

  private pickFile(): void {
    this.renderRoot.querySelector<HTMLInputElement>("input[type=file]")?.click();
  }

  private filePicked(event: Event): void {
    const input = event.target as HTMLInputElement;
    this.files = [...this.files, ...Array.from(input.files ?? [])];
    input.value = "";
  }
}

customElements.define("relais-composer", RelaisComposer);

declare global {
  interface HTMLElementTagNameMap {
    "relais-composer": RelaisComposer;
  }
  interface HTMLElementEventMap {
    "relais-send": CustomEvent<SendDetail>;
    "relais-typing": CustomEvent<TypingDetail>;
    "relais-draft": CustomEvent<DraftDetail>;
  }
}
