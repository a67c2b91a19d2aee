import { css, unsafeCSS } from 'lit';
import { COLLAPSED_LINES } from './longMessage.ts';

/**
 * Styles for a message's rendered content (the Markdown subset of markdown.ts, jumbo emoji, the
 * collapsed long message), kept apart from parley-message.ts so that file stays about the row.
 */
export const messageContentStyles = css`
  .content.md {
    /* markdown-it already turned the newlines that matter into <br> and blocks. */
    white-space: normal;
  }
  .md-body {
    /* Lets the last paragraph and the "(edited)" mark share a line. */
    display: contents;
  }
  .md-body > p:last-child {
    display: inline;
  }
  .md-body > :last-child {
    margin-bottom: 0;
  }
  .md p,
  .md ul,
  .md ol,
  .md pre,
  .md blockquote {
    margin: 0 0 6px;
  }
  .md ul,
  .md ol {
    padding-left: 1.5em;
  }
  .md li > p {
    margin: 0;
  }
  .md blockquote {
    padding: 0 0 0 10px;
    border-left: 3px solid var(--border);
    color: var(--text-muted);
  }
  .md blockquote > :last-child {
    margin-bottom: 0;
  }
  .md code {
    font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, monospace;
    font-size: 0.87em;
    padding: 1px 4px;
    border-radius: 4px;
    background: var(--bg-subtle);
    border: 1px solid var(--border);
  }
  .md pre {
    /* Code keeps its lines: wide code scrolls inside the message instead of wrapping or widening the row. */
    overflow-x: auto;
    max-width: 100%;
    padding: 8px 10px;
    border-radius: 6px;
    background: var(--bg-subtle);
    border: 1px solid var(--border);
    white-space: pre;
    overflow-wrap: normal;
  }
  .md pre code {
    padding: 0;
    border: 0;
    background: none;
    font-size: 13px;
  }
  .md a {
    color: var(--accent);
    text-decoration: underline;
  }
  .content.jumbo {
    font-size: 40px;
    line-height: 1.2;
  }
  .content.collapsed {
    /* em: this box's own font size, so it is the line height set on .content times the lines shown. */
    max-height: calc(${unsafeCSS(COLLAPSED_LINES)} * 1.45em);
    overflow: hidden;
    mask-image: linear-gradient(to bottom, #000 75%, transparent);
  }
  .more {
    margin-top: 2px;
    padding: 2px 0;
    border: 0;
    background: none;
    color: var(--accent);
    font-size: 13px;
    font-weight: 600;
  }
  .more:hover {
    text-decoration: underline;
  }
`;
