import { css } from "lit";

export const styles = css`
  :host {
    display: block;
    border-top: 1px solid #e3e6eb;
    background: #fff;
  }
  form {
    display: flex;
    align-items: flex-end;
    gap: 6px;
    padding: 8px;
  }
  textarea {
    flex: 1;
    resize: none;
    font: inherit;
    border: 1px solid #c9ced6;
    border-radius: 10px;
    padding: 8px 10px;
    min-height: 1.4em;
    max-height: 8em;
    line-height: 1.4;
  }
  textarea:focus-visible,
  button:focus-visible {
    outline: 2px solid var(--relais-accent, #1f5eff);
    outline-offset: 1px;
  }
  button {
    font: inherit;
    border: 0;
    border-radius: 10px;
    padding: 8px 12px;
    cursor: pointer;
  }
  .send {
    background: var(--relais-accent, #1f5eff);
    color: #fff;
  }
  .send:disabled {
    opacity: 0.5;
    cursor: default;
  }
  .attach {
    background: #eef1f5;
  }
  .files {
    padding: 0 10px 6px;
    font-size: 0.8em;
    color: #5b6472;
  }
  .limit {
    color: #b3261e;
    font-size: 0.8em;
    padding: 0 10px 6px;
  }
  input[type="file"] {
    display: none;
  }
`;
