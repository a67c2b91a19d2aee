import { css } from 'lit';

/**
 * Design tokens, inherited through every shadow root (custom properties pierce shadow DOM), plus
 * the few base rules each component adopts.
 */
export const tokens = css`
  :host {
    --font: ui-sans-serif, system-ui, -apple-system, 'Segoe UI', Roboto, 'Helvetica Neue', Arial, sans-serif;
    --bg: #ffffff;
    --bg-subtle: #f7f7f8;
    --bg-hover: #f1f1f4;
    --bg-sidebar: #f8f8fa;
    --bg-selected: #eceefe;
    --border: #e6e6eb;
    --text: #1d1d21;
    --text-muted: #5e5e6b;
    --text-faint: #8a8a96;
    --accent: #4f46e5;
    --accent-hover: #4338ca;
    --accent-soft: #eef0ff;
    --danger: #c53030;
    --danger-soft: #fdecec;
    --warning: #b45309;
    --warning-soft: #fff6e5;
    --success: #15803d;
    --online: #22a55b;
    --radius: 8px;
    --radius-lg: 12px;
    --shadow: 0 1px 2px rgb(16 16 24 / 6%), 0 4px 16px rgb(16 16 24 / 8%);
    --focus: 0 0 0 3px rgb(79 70 229 / 35%);
    font-family: var(--font);
    color: var(--text);
  }
`;

export const base = css`
  * {
    box-sizing: border-box;
  }
  button {
    font: inherit;
    color: inherit;
    cursor: pointer;
  }
  button:focus-visible,
  a:focus-visible,
  input:focus-visible,
  textarea:focus-visible,
  select:focus-visible,
  [tabindex]:focus-visible {
    outline: none;
    box-shadow: var(--focus);
  }
  .visually-hidden {
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
  .icon-button {
    display: inline-grid;
    place-items: center;
    width: 32px;
    height: 32px;
    border: 0;
    border-radius: 6px;
    background: transparent;
    color: var(--text-muted);
  }
  .icon-button:hover {
    background: var(--bg-hover);
    color: var(--text);
  }
  .primary {
    border: 0;
    border-radius: var(--radius);
    background: var(--accent);
    color: #fff;
    font-weight: 600;
    padding: 9px 16px;
  }
  .primary:hover {
    background: var(--accent-hover);
  }
  .primary:disabled {
    opacity: 0.55;
    cursor: default;
  }
  .secondary {
    border: 1px solid var(--border);
    border-radius: var(--radius);
    background: var(--bg);
    padding: 8px 14px;
    font-weight: 500;
  }
  .secondary:hover {
    background: var(--bg-hover);
  }
  input[type='text'],
  input[type='search'],
  textarea,
  select {
    font: inherit;
    color: inherit;
    border: 1px solid var(--border);
    border-radius: var(--radius);
    background: var(--bg);
    padding: 9px 12px;
  }
  input:focus,
  textarea:focus,
  select:focus {
    border-color: var(--accent);
  }
`;

/** A panel beside the room (members, a thread): a column with a titled header and a scrolling `.body`. */
export const sidePanel = css`
  :host {
    display: flex;
    flex-direction: column;
    min-height: 0;
    background: var(--bg);
    border-left: 1px solid var(--border);
  }
  header {
    display: flex;
    align-items: center;
    justify-content: space-between;
    padding: 14px 12px 10px 16px;
    border-bottom: 1px solid var(--border);
  }
  h2 {
    margin: 0;
    font-size: 15px;
  }
  .body {
    flex: 1;
    overflow-y: auto;
  }
`;
