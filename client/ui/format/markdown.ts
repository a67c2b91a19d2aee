import DOMPurify from 'dompurify';
import MarkdownIt from 'markdown-it';
import { isEmojiOnly } from './emojiOnly.ts';
import { isLongMessage } from './longMessage.ts';

/*
 * Message text as a safe Markdown subset: bold, italic, strike, inline code, fenced code, quotes,
 * lists and links. markdown-it parses it (CommonMark, raw HTML off, so `<script>` is text), then
 * DOMPurify keeps only the tags and attributes the subset produces, in case a parser rule or a
 * future option ever lets something else through.
 */

/**
 * The markdown-it rules of the subset. The parser starts from its 'zero' preset (paragraphs and
 * text only) and enables just these, so headings, images, tables, rules, indented code and
 * reference definitions stay plain text instead of being turned off one by one.
 */
export const MARKDOWN_RULES = ['fence', 'blockquote', 'list', 'emphasis', 'strikethrough', 'backticks', 'link', 'autolink', 'linkify', 'newline', 'escape', 'entity'] as const;

/** Every tag the subset renders; DOMPurify drops any other. */
export const ALLOWED_TAGS = ['p', 'br', 'strong', 'em', 's', 'code', 'pre', 'blockquote', 'ul', 'ol', 'li', 'a'] as const;
/** `start` keeps an ordered list's first number; the fence's `language-*` class is dropped. */
export const ALLOWED_ATTR = ['href', 'target', 'rel', 'start'] as const;

/** Only these schemes become links; `javascript:`, `data:`, relative and `//` URLs stay text. */
const LINK_URL = /^(?:https?:\/\/|mailto:)/i;

const markdown = new MarkdownIt('zero', { html: false, linkify: true, breaks: true, typographer: false });
markdown.enable([...MARKDOWN_RULES]);
// markdown-it's own check only blocks a few schemes; an allow-list is the safe default.
markdown.validateLink = (url) => LINK_URL.test(url);
const renderLinkOpen = markdown.renderer.rules.link_open ?? ((tokens, idx, options, _env, self) => self.renderToken(tokens, idx, options));
markdown.renderer.rules.link_open = (tokens, idx, options, env, self) => {
  const token = tokens[idx];
  // A message link must not replace the app, nor give the opened page a handle on it.
  token?.attrSet('target', '_blank');
  token?.attrSet('rel', 'noopener noreferrer');
  return renderLinkOpen(tokens, idx, options, env, self);
};

/**
 * Characters or line starts that can begin a construct of the subset. Only a pre-check for the
 * fast path: a false alarm costs one markdown-it parse, never a different rendering.
 */
const MAYBE_SYNTAX = /[*_~`[\]<>&\\]|^[ \t]*(?:[-+]|\d{1,9}[.)])(?:[ \t]|$)/m;

/** The text may contain Markdown or a URL to link; false means it renders as itself. */
export function mayNeedMarkdown(source: string): boolean {
  return MAYBE_SYNTAX.test(source) || markdown.linkify.test(source);
}

/** markdown-it's HTML for the subset, before sanitising (links already carry target and rel). */
export function markdownToHtml(source: string): string {
  return markdown.render(source);
}

type Purifier = ReturnType<typeof DOMPurify>;
let purifier: Purifier | null | undefined;

function configuredPurifier(): Purifier | null {
  if (purifier !== undefined) return purifier;
  // No DOM (Node): DOMPurify would hand its input back unchanged, so there is no sanitiser at all.
  if (typeof window === 'undefined' || !DOMPurify.isSupported) return (purifier = null);
  // Its own instance, so the hook below cannot leak into (or be undone by) other users of DOMPurify.
  const instance = DOMPurify(window);
  instance.addHook('afterSanitizeAttributes', (node) => {
    if (node instanceof HTMLAnchorElement) {
      node.setAttribute('target', '_blank');
      node.setAttribute('rel', 'noopener noreferrer');
    }
  });
  return (purifier = instance);
}

/** The HTML with only the subset's tags, attributes and link schemes left; null without a DOM. */
export function sanitizeMessageHtml(html: string): string | null {
  const instance = configuredPurifier();
  if (!instance) return null;
  return instance.sanitize(html, {
    ALLOWED_TAGS: [...ALLOWED_TAGS],
    ALLOWED_ATTR: [...ALLOWED_ATTR],
    ALLOWED_URI_REGEXP: LINK_URL,
    ALLOW_DATA_ATTR: false,
    ALLOW_ARIA_ATTR: false,
  });
}

export interface RenderedMessage {
  /** Sanitised HTML of the subset; null: show the content as plain text (fast path, or no sanitiser). */
  readonly html: string | null;
  /** Only a few emoji: shown large. */
  readonly jumbo: boolean;
  /** Shows collapsed with "Show more" (see longMessage.ts). */
  readonly long: boolean;
}

/**
 * Rendered messages kept per message id. Above the list's 200-row window, so scrolling back and
 * forth within a room, or switching between two rooms, parses nothing twice.
 */
export const RENDER_CACHE_SIZE = 500;

/**
 * A renderer from (message id, content) to what a row shows, with a least-recently-used cache:
 * an unchanged message returns the same object without parsing. The content itself is the cache
 * check, so an edit (or a pending local one) re-renders at once. `sanitize` returning null falls
 * back to plain text: formatting is dropped rather than shown unsanitised.
 */
export function createMessageRenderer(sanitize: (html: string) => string | null, capacity = RENDER_CACHE_SIZE): (id: string, content: string) => RenderedMessage {
  const cache = new Map<string, { readonly content: string; readonly rendered: RenderedMessage }>();
  return (id, content) => {
    const hit = cache.get(id);
    if (hit && hit.content === content) {
      // Map keeps insertion order: moving the entry to the end makes the first one the eldest.
      cache.delete(id);
      cache.set(id, hit);
      return hit.rendered;
    }
    const jumbo = isEmojiOnly(content);
    const html = jumbo || !mayNeedMarkdown(content) ? null : sanitize(markdownToHtml(content));
    const rendered: RenderedMessage = { html, jumbo, long: isLongMessage(content) };
    cache.delete(id);
    cache.set(id, { content, rendered });
    if (cache.size > capacity) {
      const eldest = cache.keys().next();
      if (!eldest.done) cache.delete(eldest.value);
    }
    return rendered;
  };
}

/** The app's renderer: DOMPurify-sanitised, cached. */
export const renderMessage = createMessageRenderer(sanitizeMessageHtml);
