import type * as Y from 'yjs';
import type { MessageView } from '../../shared/roomDoc/messageView.ts';
import { pinnedMessages } from '../../shared/roomDoc/pinOps.ts';
import { pinsOf } from '../../shared/roomDoc/pinReads.ts';
import { ClientError } from '../errors/ClientError.ts';
import type { RoomReplica } from './RoomReplica.ts';
import type { OpenSegment } from './RoomSegments.ts';
import { settled } from './segmentReadiness.ts';
import { getMessage, messageCount } from '../../shared/roomDoc/queries.ts';

/** What RoomPins needs of RoomDocuments: where a message is on this device, and opening the segment that holds one. */
export interface PinnedSources {
  find(id: string): { view: MessageView; replica: RoomReplica } | null;
  recentView(id: string): MessageView | null;
  target(id: string): RoomReplica | Promise<RoomReplica>;
  home(id: string): { readonly segment: Promise<OpenSegment>; readonly sealedCount: number | null } | null;
  readonly segmented: boolean;
}

/**
 * How long pin() waits for the segment holding the message to bring it (a device that has not
 * synced that segment yet) before it answers `not_found`: long enough for a 5,000-message segment
 * over a slow link, short enough that a tap on Pin does not hang.
 */
export const PIN_WAIT_MS = 10_000;

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

  /**
   * The document holding the message, for pinMessage to check it. In a segmented room a message
   * not on this device yet is looked for in its home segment (SegmentIndex.homeOf), opened and,
   * while it syncs, awaited until it holds the message, holds everything it was sealed with (the
   * open one: until synced), the device is offline, or `waitMs` passed: then pinMessage decides.
   */
  async holder(id: string, waitMs = PIN_WAIT_MS): Promise<Y.Doc> {
    const found = this.#sources.find(id);
    if (found) return found.replica.doc;
    const home = this.#sources.home(id);
    if (!home) {
      const target = this.#sources.target(id);
      return (target instanceof Promise ? await target : target).doc;
    }
    const segment = await home.segment;
    const { doc } = segment.replica;
    const whole = (): boolean => segment.connection.synced && (home.sealedCount === null || messageCount(doc) >= home.sealedCount);
    await settled(segment.connection, () => getMessage(doc, id) !== null || whole(), segment.replica, waitMs);
    // A late write may sit in another open segment until the server moves it home.
    return this.#sources.find(id)?.replica.doc ?? doc;
  }

  #open(id: string): void {
    if (!this.#sources.segmented || this.#asked.has(id)) return;
    this.#asked.add(id);
    const target = this.#sources.target(id);
    if (target instanceof Promise) target.catch((e: unknown) => this.#onError(e instanceof ClientError ? e : new ClientError('storage_failed', String(e))));
  }
}
