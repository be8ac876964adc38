import { css } from "lit";

export const styles = css`
  :host {
    display: block;
    border-top: 1px solid #e3e6eb;
    background: #fafbfc;
    font: inherit;
  }
  header {
    display: flex;
    align-items: center;
    gap: 8px;
    padding: 4px 12px;
  }
  h3 {
    flex: 1;
    margin: 0;
    font-size: 0.8em;
    text-transform: uppercase;
    letter-spacing: 0.04em;
    color: #5b6472;
  }
  .count {
    font-weight: normal;
  }
  .toggle {
    font: inherit;
    font-size: 0.85em;
    background: none;
    border: 0;
    color: var(--relais-accent, #1f5eff);
    cursor: pointer;
    text-decoration: underline;
  }
  ul {
    list-style: none;
    margin: 0;
    padding: 0 12px 8px;
    display: flex;
    flex-direction: column;
    gap: 6px;
    /* A few answers in view; the mail above keeps most of the height. */
    max-height: 30vh;
    overflow-y: auto;
  }
  li button {
    width: 100%;
    text-align: left;
    font: inherit;
    background: #fff;
    border: 1px solid #d5d9e0;
    border-radius: 8px;
    padding: 6px 10px;
    cursor: pointer;
    display: flex;
    flex-direction: column;
    gap: 2px;
  }
  li button:hover {
    border-color: var(--relais-accent, #1f5eff);
  }
  li button:focus-visible,
  .toggle:focus-visible {
    outline: 2px solid var(--relais-accent, #1f5eff);
    outline-offset: 1px;
  }
  .text {
    display: -webkit-box;
    -webkit-box-orient: vertical;
    /* Its first lines, run together: the whole text goes into the answer when picked. */
    -webkit-line-clamp: 3;
    overflow: hidden;
  }
  .meta {
    font-size: 0.8em;
    color: #5b6472;
  }
  .muted {
    margin: 0;
    padding: 0 12px 8px;
    font-size: 0.85em;
    color: #5b6472;
  }
  .error {
    color: #8c1d18;
  }
`;
