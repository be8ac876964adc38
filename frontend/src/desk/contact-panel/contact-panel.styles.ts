import { css } from "lit";

export const styles = css`
  :host {
    display: block;
    overflow-y: auto;
    border-left: 1px solid #e3e6eb;
    padding-bottom: 16px;
  }
  h2 {
    font-size: 0.8em;
    text-transform: uppercase;
    letter-spacing: 0.04em;
    color: #5b6472;
    margin: 14px 14px 6px;
  }
  p,
  ul {
    margin: 0 14px;
  }
  ul {
    padding-left: 18px;
  }
  li {
    margin: 2px 0;
    overflow-wrap: anywhere;
  }
  .name {
    font-size: 1.1em;
    font-weight: 600;
  }
  .muted {
    color: #5b6472;
    font-size: 0.9em;
  }
  .unverified {
    color: #8a5a00;
    font-size: 0.8em;
  }
`;
