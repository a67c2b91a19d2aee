/*
 * Mentions in message text: `@Name` for each user the message's `mentioned_users` names, found in
 * the text and highlighted (the reader's own mention more strongly). Highlighting never turns
 * user text into markup: plain text is split into text parts for lit's text bindings, and
 * sanitised HTML is changed as a DOM, wrapping text nodes in spans this code creates, so the
 * text stays text (textContent) and no new tag or attribute can come from a message.
 */

export interface MentionName {
  readonly name: string;
  /** The mention is of the reader. */
  readonly mine: boolean;
}

export type TextPart = { readonly text: string; readonly mention?: undefined } | { readonly text: string; readonly mention: MentionName };

/** The text cut at each `@Name` of `mentions` (longest names first, so `@Ann Lee` wins over `@Ann`). */
export function mentionParts(text: string, mentions: readonly MentionName[]): TextPart[] {
  const names = [...mentions].filter((m) => m.name !== '').sort((a, b) => b.name.length - a.name.length);
  if (names.length === 0) return [{ text }];
  const parts: TextPart[] = [];
  let plain = '';
  for (let i = 0; i < text.length; ) {
    const found = text[i] === '@' ? names.find((m) => text.startsWith(m.name, i + 1)) : undefined;
    if (!found) {
      plain += text[i];
      i++;
      continue;
    }
    if (plain !== '') parts.push({ text: plain });
    plain = '';
    parts.push({ text: `@${found.name}`, mention: found });
    i += found.name.length + 1;
  }
  if (plain !== '') parts.push({ text: plain });
  return parts;
}

/** Inside these, text is code or a link's label: left as it is. */
const SKIP = new Set(['CODE', 'PRE', 'A']);

/** Sanitised message HTML with each mention's text wrapped in `<span class="mention">` (`mention mine` for the reader). */
export function highlightMentionsHtml(sanitized: string, mentions: readonly MentionName[], doc: Document = document): string {
  const template = doc.createElement('template');
  template.innerHTML = sanitized;
  const walker = doc.createTreeWalker(template.content, NodeFilter.SHOW_TEXT);
  const texts: Text[] = [];
  for (let node = walker.nextNode(); node; node = walker.nextNode()) if (node instanceof Text || node.nodeType === 3) texts.push(node as Text);
  for (const node of texts) {
    if (insideSkipped(node)) continue;
    const parts = mentionParts(node.data, mentions);
    if (parts.length === 1 && !parts[0]?.mention) continue;
    const fragment = doc.createDocumentFragment();
    for (const part of parts) {
      if (!part.mention) {
        fragment.append(doc.createTextNode(part.text));
        continue;
      }
      const span = doc.createElement('span');
      span.className = part.mention.mine ? 'mention mine' : 'mention';
      span.textContent = part.text;
      fragment.append(span);
    }
    node.replaceWith(fragment);
  }
  return template.innerHTML;
}

function insideSkipped(node: Node): boolean {
  for (let at = node.parentNode; at; at = at.parentNode) if (at instanceof Element && SKIP.has(at.tagName)) return true;
  return false;
}

/** The `@` word being typed just before the caret (`@` at the start or after a space), or null. */
export function mentionQueryAt(text: string, caret: number): { readonly start: number; readonly query: string } | null {
  const before = text.slice(0, caret);
  const match = /(^|\s)@([^\s@]{0,32})$/.exec(before);
  if (!match) return null;
  const query = match[2] ?? '';
  return { start: caret - query.length - 1, query };
}

/** The picked users whose `@Name` is still in the text, each once, in the order picked. */
export function mentionedIn(text: string, picked: ReadonlyMap<string, string>): string[] {
  const ids: string[] = [];
  for (const [userId, name] of picked) if (text.includes(`@${name}`) && !ids.includes(userId)) ids.push(userId);
  return ids;
}
