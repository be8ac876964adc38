import { css } from "lit";

export const styles = css`
  :host {
    display: grid;
    place-items: center;
    height: 100%;
    background: #14213d;
  }
  form {
    background: #fff;
    padding: 28px;
    border-radius: 14px;
    display: flex;
    flex-direction: column;
    gap: 12px;
    width: min(340px, 90vw);
  }
  h1 {
    margin: 0 0 4px;
    font-size: 1.3em;
  }
  label {
    display: flex;
    flex-direction: column;
    gap: 4px;
    font-size: 0.9em;
  }
  input {
    font: inherit;
    padding: 8px 10px;
    border: 1px solid #c9ced6;
    border-radius: 8px;
  }
  button {
    font: inherit;
    background: #1f5eff;
    color: #fff;
    border: 0;
    border-radius: 10px;
    padding: 10px;
    cursor: pointer;
  }
  .error {
    color: #b3261e;
    margin: 0;
  }
`;
