import { css } from "lit";

export const styles = css`
  :host {
    display: block;
    --relais-accent: #1f5eff;
  }
  .card {
    margin: 10px 10px 0;
    padding: 10px 12px;
    border: 2px solid var(--relais-accent);
    border-radius: 10px;
    background: #fff;
    box-shadow: 0 4px 14px rgb(31 94 255 / 18%);
  }
  .card:focus-visible {
    outline: 3px solid #14213d;
    outline-offset: 2px;
  }
  .card.lapsed {
    border-color: #9aa3af;
    box-shadow: none;
    opacity: 0.8;
  }
  .head {
    display: flex;
    align-items: center;
    gap: 8px;
  }
  .icon {
    flex: none;
    color: var(--relais-accent);
  }
  .title {
    flex: 1;
    font-size: 1em;
    margin: 0;
  }
  .countdown {
    font-variant-numeric: tabular-nums;
    font-weight: 600;
    white-space: nowrap;
  }
  .countdown.urgent {
    color: #b3261e;
  }
  p {
    margin: 4px 0 0;
    overflow-wrap: anywhere;
  }
  .muted {
    color: #5b6472;
    font-size: 0.9em;
  }
  .page {
    white-space: nowrap;
    overflow: hidden;
    text-overflow: ellipsis;
  }
  .actions {
    display: flex;
    gap: 8px;
    margin-top: 8px;
  }
  button {
    font: inherit;
    border: 0;
    border-radius: 8px;
    padding: 7px 12px;
    cursor: pointer;
  }
  button:focus-visible,
  summary:focus-visible {
    outline: 2px solid var(--relais-accent);
    outline-offset: 2px;
  }
  button:disabled {
    cursor: default;
    opacity: 0.6;
  }
  .accept {
    flex: 1;
    background: #137a3b;
    color: #fff;
    font-weight: 600;
  }
  .reject {
    background: #eef1f5;
    color: #1d2330;
  }
  .error {
    color: #b3261e;
  }
  details {
    margin-top: 8px;
    border-top: 1px solid #eef0f3;
    padding-top: 6px;
  }
  summary {
    cursor: pointer;
    font-size: 0.85em;
    font-weight: 600;
    color: #3c4554;
  }
  h3 {
    font-size: 0.8em;
    text-transform: uppercase;
    letter-spacing: 0.04em;
    color: #5b6472;
    margin: 10px 0 4px;
  }
  dl {
    display: grid;
    grid-template-columns: auto 1fr;
    gap: 2px 10px;
    margin: 0;
    font-size: 0.9em;
  }
  dt {
    color: #5b6472;
  }
  dd {
    margin: 0;
    overflow-wrap: anywhere;
  }
  relais-contact-panel {
    border-left: 0;
    margin: 0 -14px;
    padding-bottom: 0;
  }
  .wrap-up {
    margin: 10px 10px 0;
    display: flex;
    flex-wrap: wrap;
    align-items: center;
    gap: 8px;
    padding: 6px 10px;
    border-radius: 8px;
    background: #fff4d6;
    color: #6b4e00;
    font-variant-numeric: tabular-nums;
  }
  .wrap-up span {
    flex: 1;
  }
  .wrap-up button {
    background: #6b4e00;
    color: #fff;
    padding: 4px 12px;
  }
  .wrap-up .error {
    flex-basis: 100%;
    margin: 0;
  }
  .sr-only {
    position: absolute;
    width: 1px;
    height: 1px;
    margin: -1px;
    padding: 0;
    overflow: hidden;
    clip: rect(0 0 0 0);
    white-space: nowrap;
    border: 0;
  }
`;
