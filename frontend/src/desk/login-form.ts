import { LitElement, css, html, nothing } from "lit";
import { Api, ApiError } from "../shared/api.js";
import type { Strings } from "../shared/i18n.js";

/**
 * The agent's login.
 *
 * @event relais-login - detail `{ agent, csrf_token }` once logged in.
 */
export class RelaisLoginForm extends LitElement {
  static override properties = { strings: { attribute: false }, error: { state: true }, busy: { state: true } };
  static override styles = css`
    :host {
      display: grid;
      place-items: center;
      height: 100%;
      background: #14213d;
    }
    form {
      background: #fff;
      padding: 28px;
      border-radius: 14px;
      display: flex;
      flex-direction: column;
      gap: 12px;
      width: min(340px, 90vw);
    }
    h1 {
      margin: 0 0 4px;
      font-size: 1.3em;
    }
    label {
      display: flex;
      flex-direction: column;
      gap: 4px;
      font-size: 0.9em;
    }
    input {
      font: inherit;
      padding: 8px 10px;
      border: 1px solid #c9ced6;
      border-radius: 8px;
    }
    button {
      font: inherit;
      background: #1f5eff;
      color: #fff;
      border: 0;
      border-radius: 10px;
      padding: 10px;
      cursor: pointer;
    }
    .error {
      color: #b3261e;
      margin: 0;
    }
  `;

  strings!: Strings;
  error: string | null = null;
  busy = false;

  override render() {
    const s = this.strings;
    return html`
      <form @submit=${this.submit}>
        <h1>${s.deskTitle}</h1>
        <label>E-mail<input name="email" type="email" required autocomplete="username" data-testid="login-email" /></label>
        <label>${s.password}<input name="password" type="password" required autocomplete="current-password"
          data-testid="login-password" /></label>
        ${this.error ? html`<p class="error" role="alert">${this.error}</p>` : nothing}
        <button type="submit" data-testid="login-submit" ?disabled=${this.busy}>${s.login}</button>
      </form>
    `;
  }

  private async submit(event: Event): Promise<void> {
    event.preventDefault();
    const data = new FormData(event.target as HTMLFormElement);
    this.busy = true;
    try {
      const login = await new Api({ base: "" }).post("/api/v1/auth/login", {
        email: String(data.get("email") ?? ""),
        password: String(data.get("password") ?? ""),
      });
      this.dispatchEvent(new CustomEvent("relais-login", { detail: login }));
    } catch (error) {
      this.error = error instanceof ApiError ? error.message : String(error);
    } finally {
      this.busy = false;
    }
  }
}

customElements.define("relais-login-form", RelaisLoginForm);
