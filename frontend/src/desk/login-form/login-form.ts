import { LitElement, html, nothing } from "lit";
import { Api, ApiError } from "../../shared/api.js";
import type { Strings } from "../../shared/i18n.js";
import { styles } from "./login-form.styles.js";

/**
 * The agent's login.
 *
 * @event relais-login - detail `{ agent, csrf_token }` once logged in.
 */
export class RelaisLoginForm extends LitElement {
  static override properties = { strings: { attribute: false }, error: { attribute: false }, busy: { state: true } };
  static override styles = styles;

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
