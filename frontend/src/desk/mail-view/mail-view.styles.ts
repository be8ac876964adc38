import { css } from "lit";

export const styles = css`
  :host {
    display: flex;
    flex-direction: column;
    min-height: 0;
    flex: 1;
    font: inherit;
  }
  .subject {
    display: flex;
    align-items: baseline;
    gap: 8px;
    padding: 10px 16px 8px;
    border-bottom: 1px solid #e3e6eb;
    background: #fff;
  }
  .subject h2 {
    flex: 1;
    margin: 0;
    font-size: 1.1em;
    overflow-wrap: anywhere;
  }
  .reference {
    color: #5b6472;
    font-size: 0.85em;
    white-space: nowrap;
  }
  .log {
    flex: 1;
    overflow-y: auto;
    padding: 12px;
    display: flex;
    flex-direction: column;
    gap: 12px;
    background: var(--relais-log-bg, #f6f7f9);
  }
  .mail {
    background: #fff;
    border: 1px solid #e3e6eb;
    border-left: 4px solid #9aa3af;
    border-radius: 8px;
    padding: 10px 14px;
    overflow-wrap: anywhere;
  }
  .mail.out {
    border-left-color: var(--relais-accent, #1f5eff);
    background: #f7f9ff;
  }
  .mail[data-state="pending"] {
    opacity: 0.7;
  }
  .mail[data-state="failed"] {
    outline: 1px dashed #b3261e;
  }
  .mail > header {
    display: grid;
    grid-template-columns: 1fr auto;
    gap: 2px 12px;
    padding-bottom: 8px;
    margin-bottom: 8px;
    border-bottom: 1px solid #eef0f3;
    font-size: 0.9em;
  }
  .from {
    min-width: 0;
  }
  .address,
  time,
  .line {
    color: #5b6472;
  }
  time {
    white-space: nowrap;
    font-size: 0.92em;
  }
  .line {
    grid-column: 1 / -1;
  }
  .label {
    font-weight: 600;
    color: #5b6472;
    margin-right: 4px;
  }
  .state {
    grid-column: 1 / -1;
    justify-self: start;
    margin-top: 4px;
    font-size: 0.85em;
    border-radius: 10px;
    padding: 1px 8px;
    background: #eef1f5;
    color: #3d4654;
  }
  .state.sent {
    background: #e3f5ea;
    color: #17663a;
  }
  .state.queued,
  .state.pending {
    background: #fff4d6;
    color: #6b4e00;
  }
  .state.failed,
  .state.bounced {
    background: #fde8e7;
    color: #8c1d18;
  }
  .state button {
    font: inherit;
    color: inherit;
    background: none;
    border: 0;
    text-decoration: underline;
    cursor: pointer;
  }
  /* The mail's own HTML, sanitized on the server: kept inside the card. */
  .body {
    line-height: 1.5;
    overflow-x: auto;
  }
  .body p {
    margin: 0 0 0.6em;
  }
  .body img {
    max-width: 100%;
    height: auto;
  }
  .body table {
    max-width: 100%;
  }
  .body blockquote {
    margin: 0.4em 0;
    padding-left: 10px;
    border-left: 3px solid #d5d9e0;
    color: #5b6472;
  }
  .body pre,
  .plain {
    white-space: pre-wrap;
    font: inherit;
  }
  /* Folded history and signature: shown by the button below the mail, not by their summary. */
  .body details.relais-quoted > summary {
    display: none;
  }
  .body details.relais-quoted {
    margin-top: 0.4em;
    padding-left: 10px;
    border-left: 3px solid #d5d9e0;
    color: #5b6472;
  }
  .quoted {
    font: inherit;
    font-size: 0.85em;
    margin-top: 6px;
    background: #eef1f5;
    border: 0;
    border-radius: 8px;
    padding: 3px 10px;
    cursor: pointer;
  }
  .quoted:focus-visible,
  a:focus-visible {
    outline: 2px solid var(--relais-accent, #1f5eff);
    outline-offset: 1px;
  }
  .files {
    list-style: none;
    margin: 8px 0 0;
    padding: 8px 0 0;
    border-top: 1px solid #eef0f3;
    display: flex;
    flex-wrap: wrap;
    gap: 4px 16px;
    font-size: 0.9em;
  }
  .files a {
    display: inline-flex;
    align-items: center;
    gap: 4px;
    color: var(--relais-accent, #1f5eff);
  }
  .size {
    color: #5b6472;
    margin-left: 4px;
  }
  .note {
    align-self: center;
    color: #5b6472;
    font-size: 0.85em;
    margin: 0;
  }
  .reply {
    padding: 6px 16px;
    border-top: 1px solid #e3e6eb;
    background: #fff;
    font-size: 0.88em;
    color: #3d4654;
  }
  .reply svg {
    vertical-align: -3px;
  }
`;
