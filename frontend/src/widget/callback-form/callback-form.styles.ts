import { css } from "lit";

export const styles = css`
  :host {
    display: flex;
    flex-direction: column;
    flex: 1;
    min-height: 0;
    --relais-accent: #1f5eff;
  }
  .callback {
    flex: 1;
    overflow-y: auto;
    padding: 12px 14px;
    display: flex;
    flex-direction: column;
    gap: 8px;
  }
  form {
    display: flex;
    flex-direction: column;
    gap: 6px;
  }
  h3 {
    margin: 0;
    font-size: 1em;
  }
  p {
    margin: 0;
  }
  .muted,
  .hint {
    color: #4a5363;
    font-size: 0.85em;
  }
  .hint {
    margin-top: -2px;
  }
  label {
    font-size: 0.85em;
    display: flex;
    flex-direction: column;
    gap: 2px;
  }
  input[type="tel"],
  textarea,
  select {
    font: inherit;
    border: 1px solid #8f98a6;
    border-radius: 8px;
    padding: 7px 9px;
    background: #fff;
    color: inherit;
  }
  input[aria-invalid="true"] {
    border-color: #b3261e;
  }
  textarea {
    resize: vertical;
  }
  fieldset {
    min-width: 0; /* a fieldset is as wide as its content otherwise: the selects overflowed */
    border: 1px solid #d4d9e1;
    border-radius: 10px;
    padding: 6px 10px 10px;
    margin: 4px 0 0;
    display: flex;
    flex-direction: column;
    gap: 4px;
  }
  legend {
    font-size: 0.85em;
    font-weight: 600;
    padding: 0 4px;
  }
  label.choice,
  label.consent {
    flex-direction: row;
    align-items: flex-start;
    gap: 8px;
    font-size: 0.9em;
  }
  label.choice input,
  label.consent input {
    margin: 2px 0 0;
    width: 18px;
    height: 18px;
    flex: none;
  }
  .pick {
    display: grid;
    grid-template-columns: minmax(0, 1fr);
    gap: 6px;
  }
  .pick select {
    width: 100%;
    min-width: 0;
  }
  .status-text {
    font-size: 0.95em;
    background: #eef3ff;
    color: #1d3b8b;
    border-radius: 10px;
    padding: 10px 12px;
  }
  .status-text:focus {
    outline: none;
  }
  .place {
    font-size: 0.9em;
    color: #1d3b8b;
  }
  .actions {
    display: flex;
    flex-wrap: wrap;
    gap: 8px;
    margin-top: 4px;
  }
  .primary,
  .secondary {
    border: 0;
    border-radius: 10px;
    padding: 9px 12px;
    font: inherit;
    cursor: pointer;
    min-height: 40px;
  }
  .primary {
    background: var(--relais-accent);
    color: #fff;
  }
  .primary[disabled] {
    opacity: 0.6;
    cursor: default;
  }
  .secondary {
    background: #eef1f5;
    color: #1d2330;
  }
  .danger {
    color: #8c1d18;
  }
  .link {
    align-self: flex-start;
    background: none;
    border: 0;
    padding: 4px 0;
    font: inherit;
    font-size: 0.85em;
    color: var(--relais-accent);
    text-decoration: underline;
    cursor: pointer;
  }
  .error {
    color: #b3261e;
    font-size: 0.85em;
  }
  button:focus-visible,
  input:focus-visible,
  select:focus-visible,
  textarea:focus-visible {
    outline: 2px solid #ffbf47;
    outline-offset: 2px;
  }
`;
