import { css, html, type TemplateResult } from 'lit';
import { unsafeHTML } from 'lit/directives/unsafe-html.js';
import { type MentionName, highlightMentionsHtml, mentionParts } from './mentions.ts';

/*
 * A message's text with its mentions highlighted (parley-message). Plain text goes through lit
 * text bindings; sanitised Markdown HTML through highlightMentionsHtml, which only wraps text
 * nodes in spans it creates: unsafeHTML still sees nothing but DOMPurify's output plus those.
 */

/** Highlighted HTML per message, while its HTML and names stay the same. */
const cache = new Map<string, { readonly key: string; readonly html: string }>();
const CACHE_SIZE = 500;

export function mentionContent(id: string, content: string, sanitizedHtml: string | null, mentions: readonly MentionName[]): TemplateResult | string {
  if (sanitizedHtml === null) {
    return html`${mentionParts(content, mentions).map((part) =>
      part.mention ? html`<span class=${part.mention.mine ? 'mention mine' : 'mention'} data-testid="mention">${part.text}</span>` : part.text,
    )}`;
  }
  const key = `${sanitizedHtml}\u0000${JSON.stringify(mentions)}`;
  let hit = cache.get(id);
  if (hit?.key !== key) {
    hit = { key, html: highlightMentionsHtml(sanitizedHtml, mentions) };
    cache.delete(id);
    cache.set(id, hit);
    if (cache.size > CACHE_SIZE) cache.delete(cache.keys().next().value ?? '');
  }
  return html`<div class="md-body">${unsafeHTML(hit.html)}</div>`;
}

export const mentionStyles = css`
  .mention {
    color: var(--accent);
    background: var(--accent-soft);
    border-radius: 4px;
    padding: 0 2px;
    font-weight: 500;
  }
  .mention.mine {
    color: #fff;
    background: var(--accent);
    font-weight: 600;
  }
  .row.mentions-me {
    box-shadow: inset 3px 0 0 var(--accent);
    background: var(--accent-soft);
  }
  .pinned-mark {
    display: inline-flex;
    align-items: center;
    gap: 3px;
    font-size: 11px;
    color: var(--text-muted);
    margin-left: 6px;
  }
`;
