import { css } from "lit";

// Sized for a 1280×800 laptop and read from across the room on a 1920×1080 screen (bigger
// type there). Colours of the service level always come with words (met, near, below).
export const styles = css`
  :host {
    display: block;
    min-height: 100vh;
    font: 15px/1.4 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif;
    color: #1d2330;
    background: #f1f3f6;
    --relais-accent: #1f5eff;
    --ok: #137a3b;
    --near: #8a5a00;
    --bad: #b3261e;
  }
  header {
    display: flex;
    align-items: center;
    gap: 14px;
    padding: 8px 18px;
    background: #14213d;
    color: #fff;
  }
  header h1 {
    font-size: 1.1em;
    margin: 0;
    flex: 1;
  }
  .updated {
    color: #c9d3e6;
    font-size: 0.9em;
  }
  button,
  select {
    font: inherit;
    border-radius: 8px;
    border: 1px solid #c9ced6;
    padding: 4px 10px;
    background: #fff;
    color: inherit;
  }
  header button {
    border: 0;
    color: #14213d;
  }
  button:focus-visible,
  select:focus-visible {
    outline: 2px solid var(--relais-accent);
    outline-offset: 1px;
  }
  .status {
    background: #fff4d6;
    color: #6b4e00;
    padding: 4px 18px;
    font-size: 0.9em;
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
    border: 0;
    background: none;
    text-decoration: underline;
    cursor: pointer;
  }
  main {
    padding: 14px 18px 24px;
    display: grid;
    gap: 16px;
  }
  .denied {
    max-width: 560px;
    margin: 15vh auto;
    background: #fff;
    border-radius: 14px;
    padding: 24px 28px;
  }
  .denied h1 {
    margin: 0;
    font-size: 1.3em;
  }
  .denied p {
    color: var(--bad);
  }
  .queues {
    display: grid;
    grid-template-columns: repeat(auto-fit, minmax(min(100%, 580px), 1fr));
    gap: 16px;
  }
  .queue,
  .panel {
    background: #fff;
    border-radius: 12px;
    padding: 12px 16px 14px;
    box-shadow: 0 1px 3px rgb(20 33 61 / 10%);
    min-width: 0;
  }
  h2 {
    font-size: 1.15em;
    margin: 0 0 10px;
  }
  .channels,
  .count {
    font-weight: normal;
    color: #5b6472;
    font-size: 0.8em;
    margin-left: 6px;
  }
  .figures {
    display: grid;
    grid-template-columns: repeat(auto-fill, minmax(128px, 1fr));
    gap: 8px;
  }
  .figure {
    margin: 0;
    padding: 7px 10px;
    border-radius: 8px;
    background: #f6f7f9;
    border-left: 5px solid transparent;
  }
  .figure.wide {
    grid-column: span 2;
  }
  dt {
    font-size: 0.75em;
    text-transform: uppercase;
    letter-spacing: 0.03em;
    color: #5b6472;
  }
  dd {
    margin: 2px 0 0;
  }
  .value {
    display: block;
    font-size: 1.45em;
    font-weight: 650;
    font-variant-numeric: tabular-nums;
  }
  .big .value {
    font-size: 2.1em;
    line-height: 1.1;
  }
  .figure.waiting {
    border-left-color: var(--relais-accent);
  }
  .sla-clocks dd span + span {
    margin-left: 12px;
  }
  .sla-clocks.at-risk {
    border-left-color: #e0a100;
  }
  .sla-clocks.breached {
    border-left-color: #c62828;
  }
  .sl.met {
    border-left-color: var(--ok);
    background: #e9f6ee;
  }
  .sl.near {
    border-left-color: #e0a100;
    background: #fff6dc;
  }
  .sl.below {
    border-left-color: var(--bad);
    background: #fdecea;
  }
  .sl.met .value,
  .sl.met .verdict {
    color: var(--ok);
  }
  .sl.near .value,
  .sl.near .verdict {
    color: var(--near);
  }
  .sl.below .value,
  .sl.below .verdict {
    color: var(--bad);
  }
  .verdict {
    display: block;
    font-size: 0.85em;
    font-weight: 600;
  }
  .muted {
    color: #5b6472;
    font-size: 0.85em;
  }
  .agents dd {
    display: flex;
    flex-wrap: wrap;
    gap: 2px 12px;
    font-size: 0.95em;
  }
  .dot {
    display: inline-block;
    width: 9px;
    height: 9px;
    border-radius: 50%;
    margin-right: 5px;
  }
  .dot.available {
    background: #2ecc71;
  }
  .dot.busy {
    background: var(--relais-accent);
  }
  .dot.away {
    background: #f5a623;
  }
  .dot.offline {
    background: #9aa3af;
  }
  .chart {
    margin: 12px 0 0;
  }
  figcaption {
    display: flex;
    flex-wrap: wrap;
    gap: 4px 14px;
    font-size: 0.8em;
    text-transform: uppercase;
    letter-spacing: 0.03em;
    color: #5b6472;
  }
  .legend {
    text-transform: none;
    letter-spacing: 0;
  }
  .key {
    display: inline-block;
    width: 10px;
    height: 10px;
    margin: 0 4px 0 10px;
    vertical-align: -1px;
  }
  .key.offered {
    background: #b9c8f3;
  }
  .key.answered {
    background: var(--relais-accent);
  }
  .key.sl {
    height: 3px;
    vertical-align: 3px;
    background: var(--ok);
  }
  /* Its proportions kept (the text in it too): at most as wide as two queues side by side. */
  svg {
    display: block;
    width: 100%;
    max-width: 900px;
    height: auto;
  }
  rect.offered {
    fill: #b9c8f3;
  }
  rect.answered {
    fill: var(--relais-accent);
  }
  path.sl {
    fill: none;
    stroke: var(--ok);
    stroke-width: 2.5;
    stroke-linejoin: round;
  }
  line.goal {
    stroke: var(--ok);
    stroke-dasharray: 5 4;
    opacity: 0.7;
  }
  line.grid {
    stroke: #e3e6eb;
  }
  text.axis {
    font-size: 11px;
    fill: #5b6472;
  }
  .staffing {
    margin: 10px 0 0;
    padding: 8px 12px;
    border-radius: 8px;
    background: #eef3ff;
    font-weight: 600;
  }
  .staffing.short {
    background: #fdecea;
    color: #8c1d18;
  }
  .lower {
    display: grid;
    grid-template-columns: minmax(0, 1fr) minmax(0, 1.5fr);
    gap: 16px;
    align-items: start;
  }
  table {
    width: 100%;
    border-collapse: collapse;
  }
  th,
  td {
    text-align: left;
    padding: 5px 8px;
    border-bottom: 1px solid #eef0f3;
    vertical-align: middle;
  }
  thead th {
    font-size: 0.75em;
    text-transform: uppercase;
    letter-spacing: 0.03em;
    color: #5b6472;
    font-weight: 600;
  }
  tbody th {
    font-weight: 600;
  }
  .num {
    text-align: right;
    font-variant-numeric: tabular-nums;
  }
  td.details {
    max-width: 18em;
    overflow: hidden;
    text-overflow: ellipsis;
    white-space: nowrap;
    color: #5b6472;
  }
  @media (max-width: 1100px) {
    .lower {
      grid-template-columns: minmax(0, 1fr);
    }
  }
  /* A wallboard on a TV, read from afar. */
  @media (min-width: 1800px) {
    :host {
      font-size: 18px;
    }
    .queues {
      grid-template-columns: repeat(auto-fit, minmax(760px, 1fr));
    }
  }
`;
