import { roomOfDoc } from '../../shared/roomDoc/segments.ts';
import type * as Y from 'yjs';
import type { Room } from '../sync/Room.ts';
import { ROOT, roomMaps, type RoomMaps } from '../../shared/roomDoc/layout.ts';
import { readPositions } from '../../shared/roomDoc/readOps.ts';
import { roomIndex } from '../../shared/roomDoc/RoomIndex.ts';
import { PeerStateSchema, ServerPresenceStateSchema } from '../../shared/protocol/awarenessStates.ts';
import type { RoomEvent } from '../../shared/commands/roomEvent.ts';
import type { UserPresence } from '../../shared/models/userPresence.ts';
import { type KeyChange, docEvents } from './docEvents.ts';
import { HEAD_ROOT } from '../../shared/roomDoc/headMaps.ts';

/** An event and its frame, serialised once for every subscriber. */
export interface FeedEvent {
  readonly event: RoomEvent;
  readonly frame: string;
}
export type FeedListener = (event: FeedEvent) => void;

const toFrame = (event: RoomEvent): FeedEvent => ({ event, frame: JSON.stringify({ type: event.type, success: true, error: null, data: event.data }) });

/**
 * The events of one loaded room, for the command connections joined to it. Document events are
 * derived from the document's own changes (so Yjs clients' writes and commands' writes alike
 * produce them), held back until the commit that makes them durable and then pushed in the order
 * the changes were applied. Typing and presence come from awareness, which is never stored, and
 * are pushed at once.
 */
export class RoomEventFeed {
  readonly room: Room;
  readonly #listeners = new Set<FeedListener>();
  readonly #nameOf: (userId: string) => string | null;
  /** Key changes of the transaction being cleaned up, until its afterTransaction event. */
  #changes: KeyChange[] = [];
  /** Events per applied update, by its number in the room (CommittedUpdate.seq), until it is committed. */
  readonly #bySeq = new Map<number, RoomEvent[]>();
  readonly #reads: Map<string, string>;
  #typing: Map<string, string>;
  #presence: Map<string, { json: string; presence: UserPresence }>;
  readonly #teardown: Array<() => void> = [];

  constructor(room: Room, nameOf: (userId: string) => string | null) {
    this.room = room;
    this.#nameOf = nameOf;
    const { doc, awareness } = room;
    // Built now rather than inside the first transaction's cleanup (docEvents reads it).
    roomIndex(doc);
    this.#reads = readPositions(doc);
    this.#typing = this.#typingUsers();
    this.#presence = this.#presenceByUser();

    const maps = roomMaps(doc);
    for (const root of Object.values(ROOT)) {
      const map = maps[root];
      const observer = (event: Y.YMapEvent<unknown>): void => {
        for (const [key, { action, oldValue }] of event.changes.keys) this.#changes.push({ root: root satisfies keyof RoomMaps, key, action, oldValue });
      };
      map.observe(observer);
      this.#teardown.push(() => map.unobserve(observer));
    }
    // Pins are a head map (a segment holds none): message_pinned / message_unpinned.
    const pins = doc.getMap<unknown>(HEAD_ROOT.pins);
    const onPins = (event: Y.YMapEvent<unknown>): void => {
      for (const [key, { action, oldValue }] of event.changes.keys) this.#changes.push({ root: 'pins', key, action, oldValue });
    };
    pins.observe(onPins);
    this.#teardown.push(() => pins.unobserve(onPins));
    // Derived once the transaction's observers (the room index's included) have all run, from the
    // document as the transaction left it; kept with the transaction until its update is emitted
    // (a transaction that emits no update leaves nothing behind).
    const events = new WeakMap<Y.Transaction, RoomEvent[]>();
    const afterTransaction = (tr: Y.Transaction): void => {
      const changes = this.#changes;
      this.#changes = [];
      if (changes.length === 0) return;
      const derived = docEvents({ doc, roomId: roomOfDoc(room.roomId), reads: this.#reads, nameOf: this.#nameOf }, changes);
      if (derived.length > 0) events.set(tr, derived);
    };
    const onUpdate = (_update: Uint8Array, _origin: unknown, _doc: Y.Doc, tr: Y.Transaction): void => {
      const derived = events.get(tr);
      // Room's own update listener ran first (it registers at load): lastAppliedSeq names this update.
      if (derived) this.#bySeq.set(room.lastAppliedSeq, derived);
    };
    doc.on('afterTransaction', afterTransaction);
    doc.on('update', onUpdate);
    this.#teardown.push(() => doc.off('afterTransaction', afterTransaction));
    this.#teardown.push(() => doc.off('update', onUpdate));
    this.#teardown.push(
      room.onCommit((updates) => {
        for (const { seq } of updates) {
          const events = this.#bySeq.get(seq);
          if (!events) continue;
          this.#bySeq.delete(seq);
          for (const event of events) this.#emit(event);
        }
      }),
    );
    const onAwareness = ({ added, updated, removed }: { added: number[]; updated: number[]; removed: number[] }): void => {
      const changed = added.concat(updated, removed);
      if (changed.includes(doc.clientID)) this.#presenceChanged();
      if (changed.some((id) => id !== doc.clientID)) this.#typingChanged();
    };
    awareness.on('change', onAwareness);
    this.#teardown.push(() => awareness.off('change', onAwareness));
  }

  get subscribers(): number {
    return this.#listeners.size;
  }

  /** Receives every event from now on; returns the unsubscribe function. */
  subscribe(listener: FeedListener): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /** Stops observing the room. */
  dispose(): void {
    for (const undo of this.#teardown.splice(0)) undo();
    this.#listeners.clear();
    this.#bySeq.clear();
  }

  #emit(event: RoomEvent): void {
    const feedEvent = toFrame(event);
    for (const listener of [...this.#listeners]) listener(feedEvent);
  }

  /** Users with any awareness state saying they type, over all their devices: id -> name. */
  #typingUsers(): Map<string, string> {
    const users = new Map<string, string>();
    for (const [clientId, raw] of this.room.awareness.getStates()) {
      if (clientId === this.room.doc.clientID) continue;
      const state = PeerStateSchema.safeParse(raw);
      if (state.success && state.data.typing === true) users.set(state.data.user.id, state.data.user.name);
    }
    return users;
  }

  #typingChanged(): void {
    const now = this.#typingUsers();
    const before = this.#typing;
    this.#typing = now;
    const roomId = this.room.roomId;
    for (const [userId, name] of before) {
      if (!now.has(userId)) this.#emit({ type: 'typing_stopped', data: { room_id: roomId, user_id: userId, user_name: name } });
    }
    for (const [userId, name] of now) {
      if (!before.has(userId)) this.#emit({ type: 'typing_started', data: { room_id: roomId, user_id: userId, user_name: name } });
    }
  }

  /** Each member's presence as the server publishes it, with its JSON for comparison. */
  #presenceByUser(): Map<string, { json: string; presence: UserPresence }> {
    const parsed = ServerPresenceStateSchema.safeParse(this.room.awareness.getLocalState());
    const out = new Map<string, { json: string; presence: UserPresence }>();
    if (parsed.success) for (const presence of Object.values(parsed.data.presence)) out.set(presence.user_id, { json: JSON.stringify(presence), presence });
    return out;
  }

  #presenceChanged(): void {
    const now = this.#presenceByUser();
    const before = this.#presence;
    this.#presence = now;
    for (const [userId, { json, presence }] of now) {
      if (before.get(userId)?.json === json) continue;
      this.#emit({ type: 'presence_changed', data: { room_id: this.room.roomId, presence } });
    }
  }
}
