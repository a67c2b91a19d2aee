import type { DirectoryApi } from './DirectoryApi.ts';

/** Names kept (the newest used). */
const MAX_NAMES = 50_000;
/** A name held this long is read again (in the background) at its next use: renames reach every node. */
export const NAME_REFRESH_MS = 60_000;

/**
 * Users' display names for what renders them synchronously (command answers and room events are
 * derived inside a Yjs transaction, RoomEventFeed) when the directory answers asynchronously
 * (PostgreSQL). A name not held yet reads as null this once (the event shows no sender name) and is
 * read in the background for the next time; one held for NAME_REFRESH_MS is still answered and read
 * again, since a user's name changes whenever their token names them otherwise, on any node (as
 * does a user unknown when first read).
 */
export class UserNames {
  readonly #directory: DirectoryApi;
  readonly #now: () => number;
  readonly #names = new Map<string, { readonly name: string | null; readonly readAt: number }>();
  readonly #reading = new Set<string>();

  constructor(directory: DirectoryApi, now: () => number = Date.now) {
    this.#directory = directory;
    this.#now = now;
  }

  name(userId: string): string | null {
    const held = this.#names.get(userId);
    if (!held || this.#now() - held.readAt >= NAME_REFRESH_MS) this.#read(userId);
    return held?.name ?? null;
  }

  #read(userId: string): void {
    if (this.#reading.has(userId)) return;
    this.#reading.add(userId);
    void this.#directory.users
      .get(userId)
      .then((user) => this.#remember(userId, user?.name ?? null))
      .catch(() => {})
      .finally(() => this.#reading.delete(userId));
  }

  #remember(userId: string, name: string | null): void {
    this.#names.delete(userId);
    this.#names.set(userId, { name, readAt: this.#now() });
    if (this.#names.size > MAX_NAMES) this.#names.delete(this.#names.keys().next().value ?? userId);
  }
}
