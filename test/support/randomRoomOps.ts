import type * as Y from 'yjs';
import type { WebsocketProvider } from 'y-websocket';
import { addReaction, removeReaction } from '../../shared/roomDoc/reactionOps.ts';
import { createMessage, deleteMessage, editMessage } from '../../shared/roomDoc/messageOps.ts';
import { listMessages, listThread } from '../../shared/roomDoc/queries.ts';
import { roomIndex } from '../../shared/roomDoc/RoomIndex.ts';
import { markRead, readPositions } from '../../shared/roomDoc/readOps.ts';
import type { Actor } from '../../shared/roomDoc/actor.ts';
import type { Rng } from './prng.ts';

/*
 * Random chat activity for the convergence tests: each operation goes through shared/roomDoc as a
 * user would make it, so the server's validator must accept every one of them, whatever the
 * network did to the order in which they arrive.
 */

export interface Device {
  provider: WebsocketProvider;
  actor: Actor;
}

/** What two replicas must agree on: the messages as shown, every thread's replies, and the read positions. */
export const view = (doc: Y.Doc) => ({
  messages: listMessages(doc, { limit: 10_000 }).messages,
  threads: Object.fromEntries([...roomIndex(doc).threadRoots()].sort().map((root) => [root, listThread(doc, root, { limit: 1_000 }).messages])),
  reads: Object.fromEntries([...readPositions(doc)].sort()),
});

/** One random operation by the device's user: send (sometimes a thread reply or a quote), edit or delete their own, react, unreact or read. */
export function randomOperation(rng: Rng, device: Device, step: number): void {
  const doc = device.provider.doc;
  const own = listMessages(doc, { limit: 10_000 }).messages.filter((m) => m.senderId === device.actor.userId && m.deletedAt === null);
  const any = listMessages(doc, { limit: 10_000 }).messages.filter((m) => m.deletedAt === null);
  const roll = rng.int(6);
  const target = rng.pick(roll < 3 ? own : any);
  if (roll === 0 || !target) createMessage(doc, device.actor, { content: `step ${step}`, ...relations(rng, any) });
  else if (roll === 1) editMessage(doc, device.actor, { id: target.id, content: `edited at ${step}` });
  else if (roll === 2) deleteMessage(doc, device.actor, { id: target.id });
  else if (roll === 3) addReaction(doc, device.actor, { messageId: target.id, reaction: rng.pick(['👍', '🎉', '+1']) ?? '👍' });
  else if (roll === 4) removeReaction(doc, device.actor, { messageId: target.id, reaction: '👍' });
  else markRead(doc, device.actor, target.id);
}

/** A reply in a thread (a third of sends, also shown in the room now and then) and a quote (a fifth), of messages this replica holds. */
function relations(rng: Rng, shown: ReadonlyArray<{ id: string; parentId?: string }>): { parentId?: string; showInChannel?: boolean; quotedMessageId?: string } {
  const root = rng.chance(0.33) ? rng.pick(shown.filter((m) => m.parentId === undefined)) : undefined;
  const quote = rng.chance(0.2) ? rng.pick(shown) : undefined;
  return { ...(root ? { parentId: root.id, showInChannel: rng.chance(0.3) } : {}), ...(quote ? { quotedMessageId: quote.id } : {}) };
}
