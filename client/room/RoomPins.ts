import type * as Y from 'yjs';
import type { MessageView } from '../../shared/roomDoc/messageView.ts';
import { pinnedMessages } from '../../shared/roomDoc/pinOps.ts';
import { pinsOf } from '../../shared/roomDoc/pinReads.ts';
import { ClientError } from '../errors/ClientError.ts';
import type { RoomReplica } from './RoomReplica.ts';

/** What RoomPins needs of RoomDocuments: where a message is on this device, and opening the segment that holds one. */
export interface PinnedSources {
  find(id: string): { view: MessageView; replica: RoomReplica } | null;
  recentView(id: string): MessageView | null;
  target(id: string): RoomReplica | Promise<RoomReplica>;
  readonly segmented: boolean;
}

/**
 * A room's pinned messages on this device (docs/client.md, "Pins"). The pins are in the head,
 * always synced with the room; the messages they name may be in segments not open here. Those
 * segments are opened (once each) and `change` follows when they can be read; until then a pin
 * whose message cannot be read is left out of the list. A message read once is remembered, so a
 * segment closed again to keep memory bounded does not have to reopen for the list (which would
 * close another: pins in many old segments would otherwise keep them opening in turn).
 */
export class RoomPins {
  readonly #head: RoomReplica;
  readonly #sources: PinnedSources;
  readonly #onError: (error: ClientError) => void;
  readonly #seen = new Map<string, MessageView>();
  readonly #asked = new Set<string>();

  constructor(deps: { head: RoomReplica; sources: PinnedSources; onError: (error: ClientError) => void }) {
    this.#head = deps.head;
    this.#sources = deps.sources;
    this.#onError = deps.onError;
  }

  /** Pinned messages readable now, newest pin first; opens the segments holding the others. */
  list(): MessageView[] {
    const head = this.#head.doc;
    const listed = pinnedMessages(head, (id) => {
      const view = this.#sources.find(id)?.view ?? this.#sources.recentView(id);
      if (view) this.#seen.set(id, view);
      else this.#open(id);
      return view ?? this.#seen.get(id) ?? null;
    });
    // Forget pins that are gone, so that the memory stays the size of the pin list.
    const pinned = new Set(pinsOf(head).map((p) => p.messageId));
    for (const id of this.#seen.keys()) if (!pinned.has(id)) this.#seen.delete(id);
    return listed;
  }

  /** The document holding the message (its segment, opened if needed), for pinMessage to check it. */
  async holder(id: string): Promise<Y.Doc> {
    const found = this.#sources.find(id);
    if (found) return found.replica.doc;
    const target = this.#sources.target(id);
    return (target instanceof Promise ? await target : target).doc;
  }

  #open(id: string): void {
    if (!this.#sources.segmented || this.#asked.has(id)) return;
    this.#asked.add(id);
    const target = this.#sources.target(id);
    if (target instanceof Promise) target.catch((e: unknown) => this.#onError(e instanceof ClientError ? e : new ClientError('storage_failed', String(e))));
  }
}
