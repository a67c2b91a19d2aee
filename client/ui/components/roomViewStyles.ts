import { css } from 'lit';

/** The room view's layout: header, messages, composer, and the members or thread panel beside them (one column on phones, the panel over it). */
export const roomViewStyles = css`
  :host {
    display: grid;
    grid-template-columns: 1fr auto;
    height: 100%;
    min-height: 0;
    background: var(--bg);
  }
  .main {
    display: grid;
    grid-template-rows: auto auto 1fr auto auto auto;
    min-width: 0;
    min-height: 0;
    position: relative;
  }
  .main.dropping::after {
    content: 'Drop files to attach them';
    position: absolute;
    inset: 8px;
    display: grid;
    place-items: center;
    border: 2px dashed var(--accent);
    border-radius: var(--radius-lg);
    background: rgb(238 240 255 / 85%);
    color: var(--accent);
    font-weight: 600;
    pointer-events: none;
  }
  header {
    display: flex;
    align-items: center;
    gap: 10px;
    min-height: 56px;
    padding: 8px 12px 8px 20px;
    border-bottom: 1px solid var(--border);
  }
  .glyph {
    display: grid;
    place-items: center;
    width: 32px;
    height: 32px;
    border-radius: 30%;
    background: var(--bg-subtle);
    border: 1px solid var(--border);
    color: var(--text-muted);
  }
  .back {
    display: none;
    margin-left: -10px;
  }
  .title {
    flex: 1;
    min-width: 0;
  }
  h2 {
    margin: 0;
    font-size: 16px;
    font-weight: 700;
    overflow: hidden;
    text-overflow: ellipsis;
    white-space: nowrap;
  }
  .subtitle {
    font-size: 12px;
    color: var(--text-muted);
    display: flex;
    align-items: center;
    gap: 6px;
  }
  .online-dot {
    width: 8px;
    height: 8px;
    border-radius: 50%;
    background: var(--online);
  }
  .members-toggle {
    display: inline-flex;
    align-items: center;
    gap: 6px;
    width: auto;
    padding: 0 10px;
    font-size: 13px;
    font-weight: 600;
  }
  .members-toggle[aria-expanded='true'] {
    background: var(--bg-selected);
    color: var(--accent);
  }
  .error {
    display: flex;
    align-items: center;
    gap: 8px;
    margin: 8px 16px 0;
    padding: 8px 8px 8px 12px;
    border-radius: var(--radius);
    background: var(--danger-soft);
    color: var(--danger);
    font-size: 13px;
  }
  .error span {
    flex: 1;
  }
  .notice {
    margin: 0 16px 16px;
    padding: 12px 14px;
    border-radius: var(--radius);
    background: var(--bg-selected);
    color: var(--text-muted);
    font-size: 13px;
  }
  parley-message-list {
    min-height: 0;
  }
  .typing {
    height: 22px;
    padding: 0 20px;
    font-size: 12px;
    color: var(--text-muted);
    font-style: italic;
  }
  .empty {
    display: grid;
    place-items: center;
    height: 100%;
    color: var(--text-muted);
    text-align: center;
    padding: 24px;
  }
  .empty h2 {
    color: var(--text);
    margin-bottom: 6px;
    font-size: 18px;
    white-space: normal;
  }
  parley-member-panel,
  parley-thread-panel {
    width: 320px;
  }
  parley-thread-panel {
    width: 380px;
  }
  .quoting {
    display: flex;
    align-items: center;
    gap: 8px;
    margin: 0 4px 6px;
    padding: 4px 4px 4px 10px;
    border-left: 3px solid var(--accent);
    background: var(--bg-subtle);
    border-radius: 0 6px 6px 0;
    font-size: 13px;
  }
  .quoting span {
    flex: 1;
    min-width: 0;
    overflow: hidden;
    white-space: nowrap;
    text-overflow: ellipsis;
    color: var(--text-muted);
  }
  @media (max-width: 720px) {
    .back {
      display: inline-grid;
    }
    header {
      padding-left: 12px;
    }
    :host {
      grid-template-columns: 1fr;
    }
    parley-member-panel,
    parley-thread-panel {
      position: fixed;
      inset: 0;
      width: auto;
      z-index: 20;
    }
  }
`;
