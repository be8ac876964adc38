import { css } from "lit";

export const styles = css`
  :host {
    display: flex;
    flex-direction: column;
    min-height: 0;
    flex: 1;
    font: inherit;
  }
  .log {
    flex: 1;
    overflow-y: auto;
    padding: 12px;
    display: flex;
    flex-direction: column;
    gap: 6px;
    background: var(--relais-log-bg, #f6f7f9);
  }
  .row {
    display: flex;
    flex-direction: column;
    max-width: 85%;
    align-self: flex-start;
  }
  .row.mine {
    align-self: flex-end;
    align-items: flex-end;
  }
  .row.system {
    align-self: center;
    max-width: 95%;
  }
  .author {
    font-size: 0.75em;
    color: #5b6472;
    margin: 0 4px 2px;
  }
  .bubble {
    padding: 8px 12px;
    border-radius: 14px;
    background: #fff;
    color: #1d2330;
    box-shadow: 0 1px 1px rgb(0 0 0 / 8%);
    overflow-wrap: anywhere;
    white-space: normal;
  }
  .row[data-state="pending"] .bubble {
    opacity: 0.7;
  }
  .row[data-state="failed"] .bubble {
    opacity: 0.7;
    outline: 1px dashed #b3261e;
  }
  .mine .bubble {
    background: var(--relais-accent, #1f5eff);
    color: #fff;
  }
  .mine .bubble a {
    color: #fff;
  }
  .system .bubble {
    background: transparent;
    box-shadow: none;
    color: #5b6472;
    font-size: 0.85em;
    text-align: center;
  }
  .bubble p {
    margin: 0;
  }
  .bubble p + p {
    margin-top: 0.5em;
  }
  .bubble pre,
  .bubble code {
    font-family: ui-monospace, monospace;
    font-size: 0.9em;
    white-space: pre-wrap;
  }
  .plain {
    white-space: pre-wrap;
  }
  .meta {
    font-size: 0.72em;
    color: #5b6472;
    margin: 2px 6px 0;
  }
  .failed {
    color: #b3261e;
  }
  .failed button {
    font: inherit;
    color: inherit;
    background: none;
    border: 0;
    text-decoration: underline;
    cursor: pointer;
  }
  .files {
    display: flex;
    flex-direction: column;
    align-items: flex-start;
  }
  .files .size {
    opacity: 0.75;
  }
  .files a,
  .files button {
    display: inline-flex;
    align-items: center;
    gap: 4px;
    margin-top: 4px;
    font-size: 0.85em;
    color: inherit;
    background: none;
    border: 0;
    padding: 0;
    text-decoration: underline;
    cursor: pointer;
  }
  .typing {
    font-size: 0.8em;
    color: #5b6472;
    padding: 0 14px 6px;
    min-height: 1.2em;
    background: var(--relais-log-bg, #f6f7f9);
  }
  .empty {
    color: #5b6472;
    text-align: center;
    margin: auto;
    padding: 24px;
  }
`;
