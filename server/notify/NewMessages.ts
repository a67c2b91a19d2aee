import type * as Y from 'yjs';
import type { Logger } from '../log.ts';
import type { Room } from '../sync/Room.ts';
import { SERVER_ORIGIN, STORAGE_ORIGIN } from '../sync/origins.ts';
import { roomMaps } from '../../shared/roomDoc/layout.ts';
import { getMessage } from '../../shared/roomDoc/queries.ts';
import type { MessageView } from '../../shared/roomDoc/messageView.ts';
import { parseDocName } from '../../shared/roomDoc/segments.ts';
import { mayNotify } from './recipients.ts';

/** Whether a raw message value (not parsed yet: the validator already judged it) names anyone in `mentionedUsers`. */
function mentionsSomeone(value: unknown): boolean {
  if (typeof value !== 'object' || value === null || !('mentionedUsers' in value)) return false;
  const mentioned: unknown = value.mentionedUsers;
  return Array.isArray(mentioned) && mentioned.length > 0;
}

/** A committed new message that may notify someone (it mentions someone, or its room is direct). */
export interface NewMessage {
  /** The room (for a segment document, the room it belongs to). */
  readonly roomId: string;
  readonly view: MessageView;
}

/**
 * Finds the new messages people write, once they are committed, without slowing the commit: on
 * each loaded document it notes the message keys a transaction adds (a Y.Map observer, reading the
 * change set Yjs already computed for the room index), keyed by the update's number in the room;
 * the room's commit listener turns the committed numbers into messages and hands them on in a
 * later turn (setImmediate), so who to notify, the database reads and the outbox write never run
 * inside the commit stages. Batches are handed on one at a time, each once the one before is
 * delivered, so they keep the order of the commits; close() waits for the last.
 *
 * Only what a person (a sync peer or a command connection) added counts: the server's own
 * writes (messages moved into their segment, re-tombstoning) and loading from storage are not new
 * messages. An edit is not a new message, so editing a mention in notifies nobody.
 */
export class NewMessages {
  readonly #isDirect: (roomId: string) => Promise<boolean>;
  readonly #deliver: (messages: readonly NewMessage[]) => Promise<void>;
  readonly #logger: Logger;
  #queued: NewMessage[] = [];
  #timer: NodeJS.Immediate | null = null;
  #closed = false;
  /** The batch being delivered, or the last one. */
  #delivering: Promise<void> = Promise.resolve();

  constructor(opts: { isDirect: (roomId: string) => Promise<boolean>; deliver: (messages: readonly NewMessage[]) => Promise<void>; logger: Logger }) {
    this.#isDirect = opts.isDirect;
    this.#deliver = opts.deliver;
    this.#logger = opts.logger;
  }

  /** A document was loaded: watch it (the watch ends with the document). */
  roomLoaded(room: Room): void {
    const ref = parseDocName(room.roomId);
    if (!ref || this.#closed) return;
    // A room's type never changes: read once per load. Until the read answers, any person's new
    // message is noted, as in a direct room: the notifier decides on the room's type anyway.
    let direct: boolean | null = null;
    void this.#isDirect(ref.roomId).then(
      (isDirect) => (direct = isDirect),
      (err: unknown) => this.#logger.error({ err, room: ref.roomId }, 'notifications: reading the room type failed'),
    );
    const added = new WeakMap<Y.Transaction, string[]>();
    const bySeq = new Map<number, string[]>();
    const messages = roomMaps(room.doc).messages;
    messages.observe((event) => {
      const origin = event.transaction.origin;
      if (origin === SERVER_ORIGIN || origin === STORAGE_ORIGIN) return;
      let ids: string[] | undefined;
      for (const [key, change] of event.changes.keys) {
        // Outside direct rooms only a message with mentions can notify: a look at its raw value,
        // so a backlog of 10,000 ordinary messages costs 10,000 property reads, not views.
        if (change.action === 'add' && (direct !== false || mentionsSomeone(messages.get(key)))) (ids ??= []).push(key);
      }
      if (ids) added.set(event.transaction, ids);
    });
    // Registered after the Room's own update listener: lastAppliedSeq names this update.
    room.doc.on('update', (_update: Uint8Array, _origin: unknown, _doc: Y.Doc, tr: Y.Transaction) => {
      const ids = added.get(tr);
      if (ids) bySeq.set(room.lastAppliedSeq, ids);
    });
    room.onCommit((updates) => {
      if (bySeq.size === 0) return;
      for (const { seq } of updates) {
        const ids = bySeq.get(seq);
        if (!ids) continue;
        bySeq.delete(seq);
        for (const id of ids) {
          const view = getMessage(room.doc, id);
          if (view && mayNotify(view, direct !== false)) this.#queue({ roomId: ref.roomId, view });
        }
      }
    });
  }

  /** Hands on what is queued now and stops; resolves once it is delivered (shutdown: before the database closes). */
  async close(): Promise<void> {
    this.#flush();
    this.#closed = true;
    await this.#delivering;
  }

  #queue(message: NewMessage): void {
    if (this.#closed) return;
    this.#queued.push(message);
    this.#timer ??= setImmediate(() => this.#flush());
  }

  #flush(): void {
    if (this.#timer) clearImmediate(this.#timer);
    this.#timer = null;
    const messages = this.#queued;
    this.#queued = [];
    if (messages.length === 0) return;
    this.#delivering = this.#delivering.then(() =>
      this.#deliver(messages).catch((err: unknown) => this.#logger.error({ err, messages: messages.length }, 'notifications: handing on new messages failed')),
    );
  }
}
