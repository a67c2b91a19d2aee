import { css, html, nothing, type TemplateResult } from 'lit';
import type { QuotedMessage } from '../../../shared/models/chatMessage.ts';
import { shortTime } from './formatTime.ts';

/*
 * The parts of a message row that point at another message (parley-message): the quoted block
 * above its text, the reply line under a thread root, and the "replied in a thread" line of a
 * reply also shown in the room. Each part is a button; the row turns the click into its action.
 */

/** "Alice: the first line", or "Original message deleted": the quote as the quoted message is now. */
export function quotedBlock(quote: QuotedMessage, nameOf: (userId: string) => string, onOpen: () => void): TemplateResult {
  const sender = quote.sender_name ?? (quote.sender_id ? nameOf(quote.sender_id) : 'Someone');
  return html`<button class="quoted" data-testid="quoted" aria-label=${quote.is_deleted ? 'Quoted message, deleted: show where it was' : `Quoted message from ${sender}: show it`} @click=${onOpen}>
    ${quote.is_deleted ? html`<span class="quoted-text deleted-quote">Original message deleted</span>` : html`<span class="quoted-sender">${sender}</span><span class="quoted-text">${quote.content}</span>`}
  </button>`;
}

export interface ReplyLineInput {
  readonly replyCount: number;
  readonly lastReplyAt: string | null;
  readonly participants: readonly string[];
  /** Replies in the thread I have not read. */
  readonly unread: number;
}

/** "3 replies · last 14:05" with who took part and, when some are unread, "2 new": opens the thread. */
export function replyLine(input: ReplyLineInput, nameOf: (userId: string) => string, onOpen: () => void): TemplateResult | typeof nothing {
  if (input.replyCount === 0) return nothing;
  const count = `${input.replyCount} ${input.replyCount === 1 ? 'reply' : 'replies'}`;
  const last = input.lastReplyAt ? ` · last ${shortTime(input.lastReplyAt)}` : '';
  return html`<button class="reply-line" data-testid="reply-line" aria-label=${`${count}${input.unread > 0 ? `, ${input.unread} new` : ''}: open thread`} @click=${onOpen}>
    <span class="reply-faces" aria-hidden="true">${input.participants.slice(0, 4).map((id) => html`<parley-avatar .name=${nameOf(id)} .userKey=${id} size="20"></parley-avatar>`)}</span>
    <span class="reply-count" data-testid="reply-count">${count}</span><span class="reply-last">${last}</span>
    ${input.unread > 0 ? html`<span class="thread-unread" data-testid="thread-unread">${input.unread} new</span>` : nothing}
  </button>`;
}

/** Above a reply that is also shown in the room: where it belongs. */
export function inThreadLine(onOpen: () => void): TemplateResult {
  return html`<button class="in-thread" data-testid="in-thread" @click=${onOpen}>Replied in a thread · View thread</button>`;
}

export const relationStyles = css`
  .quoted,
  .reply-line,
  .in-thread {
    display: flex;
    align-items: center;
    gap: 8px;
    max-width: 100%;
    border: 0;
    background: transparent;
    font: inherit;
    text-align: left;
    color: inherit;
    cursor: pointer;
  }
  .quoted {
    margin: 2px 0 4px;
    padding: 4px 10px;
    border-left: 3px solid #c9c9d6;
    border-radius: 0 6px 6px 0;
    background: var(--bg-subtle);
    font-size: 13px;
  }
  .quoted-sender {
    font-weight: 650;
    flex: none;
  }
  .quoted-text {
    overflow: hidden;
    white-space: nowrap;
    text-overflow: ellipsis;
    color: var(--text-muted);
  }
  .deleted-quote {
    font-style: italic;
  }
  .reply-line {
    margin-top: 4px;
    padding: 3px 8px 3px 4px;
    border-radius: 6px;
    font-size: 13px;
  }
  .reply-line:hover,
  .in-thread:hover,
  .quoted:hover {
    background: var(--bg-selected);
  }
  .reply-faces {
    display: inline-flex;
    gap: 2px;
  }
  .reply-count {
    font-weight: 650;
    color: var(--accent);
  }
  .reply-last {
    color: var(--text-faint);
    font-size: 12px;
  }
  .thread-unread {
    padding: 0 6px;
    border-radius: 9px;
    background: var(--accent);
    color: #fff;
    font-size: 11px;
    font-weight: 700;
  }
  .in-thread {
    padding: 0 4px;
    font-size: 12px;
    color: var(--text-muted);
  }
`;
