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
    padding: 8px 8px 2px;
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
    /* Grows with its text (Shift+Enter) up to max-height, where the browser supports it. */
    field-sizing: content;
  }
  /* An e-mail answer: room for paragraphs. */
  :host([multiline]) textarea {
    min-height: 5.6em;
    max-height: 40vh;
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
  .foot {
    display: flex;
    gap: 8px;
    padding: 0 12px 4px;
    min-height: 1.1em;
    font-size: 0.72em;
    color: #5b6472;
  }
  .files {
    flex: 1;
    display: flex;
    align-items: center;
    gap: 4px;
    overflow-wrap: anywhere;
  }
  .files svg {
    width: 12px;
    height: 12px;
  }
  .drop {
    font: inherit;
    color: inherit;
    background: none;
    border: 0;
    padding: 0;
    text-decoration: underline;
    cursor: pointer;
  }
  .count.over {
    color: #b3261e;
    font-weight: 600;
  }
  input[type="file"] {
    display: none;
  }
`;
