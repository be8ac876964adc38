import { css } from "lit";

export const styles = css`
  :host {
    display: block;
    --relais-accent: #1f5eff;
  }
  .card {
    margin: 10px 10px 0;
    padding: 10px 12px;
    border: 2px solid #137a3b;
    border-radius: 10px;
    background: #fff;
  }
  .head {
    display: flex;
    align-items: baseline;
    gap: 8px;
  }
  h2 {
    flex: 1;
    margin: 0;
    font-size: 1em;
  }
  h3 {
    font-size: 0.8em;
    text-transform: uppercase;
    letter-spacing: 0.04em;
    color: #5b6472;
    margin: 8px 0 2px;
  }
  p {
    margin: 4px 0 0;
    overflow-wrap: anywhere;
  }
  .attempt {
    font-size: 0.85em;
    color: #5b6472;
    white-space: nowrap;
  }
  .call {
    display: block;
    margin-top: 8px;
    padding: 9px 12px;
    border-radius: 8px;
    background: #137a3b;
    color: #fff;
    font-weight: 600;
    text-align: center;
    text-decoration: none;
    font-variant-numeric: tabular-nums;
  }
  .number {
    font-size: 1.15em;
    font-weight: 600;
    font-variant-numeric: tabular-nums;
  }
  .reason {
    background: #f3f6fb;
    border-radius: 8px;
    padding: 6px 8px;
  }
  .muted {
    color: #5b6472;
    font-size: 0.85em;
  }
  .attempts {
    margin: 0;
    padding-left: 20px;
    font-size: 0.85em;
  }
  .outcomes {
    display: grid;
    grid-template-columns: 1fr 1fr;
    grid-auto-rows: 1fr;
    gap: 6px;
    margin-top: 4px;
  }
  .question {
    font-size: 0.85em;
    font-weight: 600;
    margin-top: 8px;
  }
  button {
    font: inherit;
    border: 0;
    border-radius: 8px;
    padding: 7px 10px;
    cursor: pointer;
    background: #eef1f5;
    color: #1d2330;
  }
  button.reached {
    background: #137a3b;
    color: #fff;
  }
  button.wrong_number {
    color: #8c1d18;
  }
  button:disabled {
    opacity: 0.6;
    cursor: default;
  }
  a:focus-visible,
  button:focus-visible {
    outline: 2px solid var(--relais-accent);
    outline-offset: 2px;
  }
  .error {
    color: #b3261e;
  }
`;
