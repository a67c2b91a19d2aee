import type * as Y from 'yjs';
import { headMaps, parseThreadReadKey } from './headMaps.ts';

/**
 * The head's `threadReads` keys grouped by thread and user, kept in step with the map by an
 * observer. The map holds a key per device, thread and user (50 members reading 500 threads on
 * two devices each: 50,000 keys), so a position must not be found by scanning it: the web app asks
 * for the unread count of every root it shows, and the validator for the sender's position in
 * every thread an update touches.
 *
 * Like RoomIndex it reflects the map as of the last finished transaction.
 */
export class ThreadReadIndex {
  /** `${rootId}|${userId}` -> the keys of that user's devices in that thread. */
  readonly #keys = new Map<string, Set<string>>();

  private constructor(map: Y.Map<unknown>) {
    map.forEach((_raw, key) => this.#add(key));
    map.observe((event) => {
      for (const [key, change] of event.changes.keys) {
        if (change.action === 'add') this.#add(key);
        else if (change.action === 'delete') this.#remove(key);
      }
    });
  }

  static of(head: Y.Doc): ThreadReadIndex {
    const map = headMaps(head).threadReads;
    let index = indexes.get(map);
    if (!index) indexes.set(map, (index = new ThreadReadIndex(map)));
    return index;
  }

  /** The keys of `userId`'s devices in the thread under `rootId` (read their values from the map). */
  keysOf(rootId: string, userId: string): ReadonlySet<string> {
    return this.#keys.get(groupOf(rootId, userId)) ?? NONE;
  }

  #add(key: string): void {
    const parsed = parseThreadReadKey(key);
    if (!parsed) return;
    const group = groupOf(parsed.rootId, parsed.userId);
    let keys = this.#keys.get(group);
    if (!keys) this.#keys.set(group, (keys = new Set()));
    keys.add(key);
  }

  #remove(key: string): void {
    const parsed = parseThreadReadKey(key);
    if (!parsed) return;
    const group = groupOf(parsed.rootId, parsed.userId);
    const keys = this.#keys.get(group);
    keys?.delete(key);
    if (keys?.size === 0) this.#keys.delete(group);
  }
}

const NONE: ReadonlySet<string> = new Set();
const indexes = new WeakMap<Y.Map<unknown>, ThreadReadIndex>();
const groupOf = (rootId: string, userId: string): string => `${rootId}|${userId}`;
