import { setTimeout as sleep } from 'node:timers/promises';
import type { ChatRoom, ChatRoomCreate, ChatRoomInDB } from '../../shared/models/chatRoom.ts';
import type { LeaveOutcome } from '../../server/storage/Directory.ts';
import type { DirectoryApi, FreshenProjections } from '../../server/storage/DirectoryApi.ts';

/** `repo` with each method waiting `ms` before it runs (properties that are not functions unchanged). */
function lagging<T extends object>(repo: T, ms: number): T {
  return new Proxy(repo, {
    get(target, name) {
      const value: unknown = Reflect.get(target, name);
      if (typeof value !== 'function') return value;
      return async (...args: unknown[]): Promise<unknown> => {
        await sleep(ms);
        return Reflect.apply(value, target, args);
      };
    },
  });
}

/**
 * A DirectoryApi whose every call outside a transaction waits `ms` first, as a network database's
 * round trip would, so that two requests' reads and writes interleave as they can on PostgreSQL.
 * A transaction's function is handed the directory underneath, whose calls do not wait (SQLite's
 * must not), and which takes turns with other transactions: what a route checks and writes through
 * its `tx` cannot be interleaved, what it does through this directory can.
 */
export class LaggingDirectory implements DirectoryApi {
  readonly users: DirectoryApi['users'];
  readonly rooms: DirectoryApi['rooms'];
  readonly members: DirectoryApi['members'];
  readonly presence: DirectoryApi['presence'];
  readonly feed: DirectoryApi['feed'];
  readonly mentions: DirectoryApi['mentions'];
  readonly attachments: DirectoryApi['attachments'];
  readonly #inner: DirectoryApi;
  readonly #ms: number;

  constructor(inner: DirectoryApi, ms: number) {
    this.#inner = inner;
    this.#ms = ms;
    this.users = lagging(inner.users, ms);
    this.rooms = lagging(inner.rooms, ms);
    this.members = lagging(inner.members, ms);
    this.presence = lagging(inner.presence, ms);
    this.feed = lagging(inner.feed, ms);
    this.mentions = lagging(inner.mentions, ms);
    this.attachments = lagging(inner.attachments, ms);
  }

  async createRoom(input: ChatRoomCreate, creatorId: string, now?: number): Promise<ChatRoom> {
    await sleep(this.#ms);
    return this.#inner.createRoom(input, creatorId, now);
  }

  async leaveRoom(roomId: string, userId: string, now?: number): Promise<LeaveOutcome> {
    await sleep(this.#ms);
    return this.#inner.leaveRoom(roomId, userId, now);
  }

  async transaction<R>(fn: (tx: DirectoryApi) => Promise<R>): Promise<R> {
    await sleep(this.#ms);
    return this.#inner.transaction(fn);
  }

  async lockRoom(roomId: string): Promise<ChatRoomInDB | null> {
    await sleep(this.#ms);
    return this.#inner.lockRoom(roomId);
  }

  freshenProjectionsWith(fn: FreshenProjections): void {
    this.#inner.freshenProjectionsWith(fn);
  }
}
