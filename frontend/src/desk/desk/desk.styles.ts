import { css } from "lit";

export const styles = css`
  :host {
    display: flex;
    flex-direction: column;
    height: 100vh;
    font: 14px/1.4 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif;
    color: #1d2330;
    --relais-accent: #1f5eff;
  }
  header {
    display: flex;
    align-items: center;
    gap: 12px;
    padding: 8px 16px;
    background: #14213d;
    color: #fff;
  }
  header h1 {
    font-size: 1.05em;
    margin: 0;
    flex: 1;
  }
  header select,
  header button {
    font: inherit;
    border-radius: 8px;
    border: 0;
    padding: 5px 10px;
  }
  .dot {
    display: inline-block;
    width: 9px;
    height: 9px;
    border-radius: 50%;
    margin-right: 6px;
  }
  .dot.available {
    background: #2ecc71;
  }
  .dot.away {
    background: #f5a623;
  }
  .dot.offline {
    background: #9aa3af;
  }
  main {
    flex: 1;
    display: grid;
    grid-template-columns: 280px 1fr 300px;
    min-height: 0;
  }
  nav {
    border-right: 1px solid #e3e6eb;
    overflow-y: auto;
    background: #fafbfc;
  }
  nav h2,
  aside h2 {
    font-size: 0.8em;
    text-transform: uppercase;
    letter-spacing: 0.04em;
    color: #5b6472;
    margin: 12px 14px 6px;
  }
  nav ul {
    list-style: none;
    margin: 0;
    padding: 0;
  }
  nav li button {
    width: 100%;
    text-align: left;
    border: 0;
    border-bottom: 1px solid #eef0f3;
    background: none;
    padding: 10px 14px;
    font: inherit;
    cursor: pointer;
    display: grid;
    grid-template-columns: 1fr auto;
    gap: 2px 8px;
  }
  nav li button[aria-current="true"] {
    background: #e8efff;
  }
  nav li button:focus-visible,
  button:focus-visible,
  select:focus-visible,
  input:focus-visible {
    outline: 2px solid var(--relais-accent);
    outline-offset: -2px;
  }
  .who {
    font-weight: 600;
    min-width: 0;
    overflow-wrap: anywhere;
  }
  /* Which channel a conversation came by: an envelope for e-mail, a bubble for chat. */
  .channel {
    display: inline-flex;
    vertical-align: -2px;
    margin-right: 6px;
    color: #5b6472;
  }
  .channel.email {
    color: #8a3ffc;
  }
  .preview .from {
    color: #3d4654;
  }
  .preview {
    grid-column: 1 / -1;
    color: #5b6472;
    font-size: 0.9em;
    white-space: nowrap;
    overflow: hidden;
    text-overflow: ellipsis;
  }
  .badge {
    background: var(--relais-accent);
    color: #fff;
    border-radius: 10px;
    padding: 0 7px;
    font-size: 0.8em;
    align-self: center;
  }
  .tag {
    font-size: 0.75em;
    color: #8a5a00;
  }
  .center {
    display: flex;
    flex-direction: column;
    min-height: 0;
  }
  .toolbar {
    display: flex;
    align-items: center;
    gap: 8px;
    padding: 8px 12px;
    border-bottom: 1px solid #e3e6eb;
  }
  .toolbar strong {
    flex: 1;
  }
  /* Back to the list: phones only, where the list and the conversation take turns. */
  .toolbar .back {
    display: none;
    font-size: 1.3em;
    line-height: 1;
    padding: 2px 10px 4px;
  }
  .toolbar button {
    font: inherit;
    background: #eef1f5;
    border: 0;
    border-radius: 8px;
    padding: 6px 12px;
    cursor: pointer;
  }
  .placeholder {
    margin: auto;
    color: #5b6472;
  }
  .in-queue {
    margin: 0;
    padding: 12px 14px;
    border-top: 1px solid #e3e7ee;
    background: #f6f8fb;
    color: #5b6472;
  }
  /* Bottom left, over the end of the list: never over the composer or the customer. */
  .toasts {
    position: fixed;
    left: 12px;
    bottom: 12px;
    max-width: 256px;
    z-index: 10;
    display: flex;
    flex-direction: column;
    gap: 8px;
  }
  .toast {
    font: inherit;
    border: 0;
    cursor: pointer;
    text-align: left;
    background: #14213d;
    color: #fff;
    padding: 10px 14px;
    border-radius: 10px;
    box-shadow: 0 6px 18px rgb(0 0 0 / 25%);
  }
  .status {
    background: #fff4d6;
    color: #6b4e00;
    padding: 4px 16px;
    font-size: 0.85em;
  }
  .status.error {
    display: flex;
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
  @media (max-width: 900px) {
    main {
      grid-template-columns: 220px 1fr;
    }
    aside {
      display: none;
    }
  }
  @media (max-width: 600px) {
    header {
      flex-wrap: wrap;
      gap: 6px 10px;
      padding: 6px 10px;
    }
    main {
      grid-template-columns: 1fr;
    }
    main.picked nav,
    main:not(.picked) .center,
    relais-contact-panel {
      display: none;
    }
    .toolbar .back {
      display: inline-block;
    }
  }
`;
