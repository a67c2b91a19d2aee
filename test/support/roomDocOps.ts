import type * as Y from 'yjs';
import type { Actor } from '../../shared/roomDoc/actor.ts';
import { createMessage, deleteMessage, editMessage } from '../../shared/roomDoc/messageOps.ts';
import { listMessages } from '../../shared/roomDoc/queries.ts';
import { addReaction, removeReaction } from '../../shared/roomDoc/reactionOps.ts';
import { markRead } from '../../shared/roomDoc/readOps.ts';

/** The legitimate operations the property tests perform on a replica, as its user would. */
export const DOC_OPS = ['send', 'edit', 'delete', 'react', 'unreact', 'read'] as const;
export type DocOp = (typeof DOC_OPS)[number];

export function nth<T>(items: readonly T[], pick: number): T | undefined {
  return items.length === 0 ? undefined : items[pick % items.length];
}

const isDocOp = (kind: string): kind is DocOp => (DOC_OPS as readonly string[]).includes(kind);

/**
 * Performs `kind` on `doc` as `actor` through the shared operations, with `pick` choosing the
 * target among the messages the actor may touch (their own for edits, and for deletes unless
 * they are an admin). Returns false for a kind that is not a document operation (the caller's
 * own, such as push or pull).
 */
export function applyDocOp(
  doc: Y.Doc,
  actor: Actor,
  kind: string,
  pick: number,
  opts: { content?: string; reactions?: readonly string[] } = {},
): boolean {
  if (!isDocOp(kind)) return false;
  const all = listMessages(doc, { limit: 10_000 }).messages.filter((m) => m.deletedAt === null);
  const own = all.filter((m) => m.senderId === actor.userId);
  const target = nth(kind === 'edit' || (kind === 'delete' && actor.role === 'member') ? own : all, pick);
  const reaction = nth(opts.reactions ?? ['👍', '🎉'], pick) ?? '👍';
  switch (kind) {
    case 'send':
      createMessage(doc, actor, { content: opts.content ?? `message ${pick}` });
      break;
    case 'edit':
      if (target) editMessage(doc, actor, { id: target.id, content: `edited ${pick}` });
      break;
    case 'delete':
      if (target) deleteMessage(doc, actor, { id: target.id });
      break;
    case 'react':
      if (target) addReaction(doc, actor, { messageId: target.id, reaction });
      break;
    case 'unreact':
      if (target) removeReaction(doc, actor, { messageId: target.id, reaction });
      break;
    case 'read':
      if (target) markRead(doc, actor, target.id);
      break;
  }
  return true;
}
