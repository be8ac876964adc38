import { css } from "lit";

export const styles = css`
  /* The host element is in the host page, whose rules beat :host's normal ones (a site's
     "* { all: unset }" would unplace the widget); its important ones do not. */
  :host {
    all: initial !important;
    display: block !important;
    position: fixed !important;
    right: 20px !important;
    bottom: 20px !important;
    z-index: 2147483000 !important;
    font: 15px/1.4 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif !important;
    color: #1d2330 !important;
    --relais-accent: #1f5eff;
  }
  .launcher {
    width: 60px;
    height: 60px;
    border-radius: 50%;
    border: 0;
    background: var(--relais-accent);
    color: #fff;
    display: grid;
    place-items: center;
    cursor: pointer;
    box-shadow: 0 6px 18px rgb(0 0 0 / 25%);
    float: right;
  }
  .launcher:focus-visible,
  button:focus-visible,
  input:focus-visible,
  textarea:focus-visible {
    outline: 2px solid #ffbf47;
    outline-offset: 2px;
  }
  .panel {
    width: 370px;
    height: min(580px, calc(100vh - 120px));
    margin-bottom: 12px;
    background: #fff;
    border-radius: 16px;
    box-shadow: 0 12px 40px rgb(0 0 0 / 25%);
    display: flex;
    flex-direction: column;
    overflow: hidden;
  }
  header {
    background: var(--relais-accent);
    color: #fff;
    padding: 12px 14px;
    display: flex;
    align-items: center;
    gap: 8px;
  }
  header .titles {
    flex: 1;
  }
  header h2 {
    margin: 0;
    font-size: 1.05em;
  }
  header p {
    margin: 2px 0 0;
    font-size: 0.8em;
    opacity: 0.9;
  }
  header button {
    display: inline-grid;
    place-items: center;
    background: rgb(255 255 255 / 18%);
    color: #fff;
    border: 0;
    border-radius: 8px;
    padding: 4px 8px;
    font: inherit;
    font-size: 0.8em;
    cursor: pointer;
  }
  .status {
    background: #fff4d6;
    color: #6b4e00;
    font-size: 0.8em;
    padding: 4px 12px;
  }
  .status.error {
    display: flex;
    align-items: center;
    gap: 8px;
    background: #fde8e7;
    color: #8c1d18;
  }
  .status.error span {
    flex: 1;
  }
  .status.error button {
    font: inherit;
    color: inherit;
    background: none;
    border: 0;
    text-decoration: underline;
    cursor: pointer;
  }
  .end,
  .offline {
    padding: 12px 14px;
    border-top: 1px solid #e3e6eb;
    display: flex;
    flex-direction: column;
    gap: 8px;
    overflow-y: auto;
  }
  .offline {
    flex: 1;
    border-top: 0;
  }
  label {
    display: flex;
    flex-direction: column;
    gap: 2px;
    font-size: 0.85em;
  }
  input,
  textarea {
    font: inherit;
    border: 1px solid #c9ced6;
    border-radius: 8px;
    padding: 7px 9px;
  }
  .primary {
    background: var(--relais-accent);
    color: #fff;
    border: 0;
    border-radius: 10px;
    padding: 9px 12px;
    font: inherit;
    cursor: pointer;
  }
  .secondary {
    background: #eef1f5;
    border: 0;
    border-radius: 10px;
    padding: 8px 12px;
    font: inherit;
    cursor: pointer;
  }
  .stars {
    display: flex;
    gap: 4px;
  }
  .stars button {
    font-size: 24px;
    background: none;
    border: 0;
    cursor: pointer;
    color: #c9ced6;
    padding: 0 2px;
  }
  .stars button.on {
    color: #f5a623;
  }
  .row {
    display: flex;
    gap: 6px;
  }
  .row input {
    flex: 1;
  }
  .note {
    font-size: 0.85em;
    color: #3a4250;
    margin: 0;
  }
  .queue-place {
    background: #eef3ff;
    color: #1d3b8b;
    padding: 6px 12px;
    border-bottom: 1px solid #d9e2f7;
  }
  header .callback-open {
    gap: 4px;
    grid-auto-flow: column;
    white-space: nowrap;
  }
  header .callback-open[aria-pressed="true"] {
    background: #fff;
    color: var(--relais-accent);
  }
  .callback-note {
    display: flex;
    align-items: center;
    gap: 8px;
    padding: 6px 12px;
    background: #f3f6fb;
    border-bottom: 1px solid #e3e6eb;
  }
  .callback-note span {
    flex: 1;
  }
  .callback-note button {
    display: inline-flex;
    align-items: center;
    gap: 4px;
    padding: 6px 10px;
    white-space: nowrap;
  }
  .thanks {
    padding: 8px 14px;
    background: #eaf7ee;
  }
  .error {
    color: #b3261e;
    font-size: 0.85em;
  }
  @media (max-width: 480px) {
    :host {
      right: 12px !important;
      bottom: 12px !important;
    }
    :host([open]) {
      inset: 0 !important;
    }
    :host([open]) .panel {
      width: 100vw;
      height: 100vh;
      height: 100dvh;
      margin: 0;
      border-radius: 0;
    }
    :host([open]) .launcher {
      display: none;
    }
  }
`;
