import type { DirectoryApi } from './DirectoryApi.ts';

/** Names kept (the newest used). */
const MAX_NAMES = 50_000;

/**
 * Users' display names for what renders them synchronously (command answers and room events are
 * derived inside a Yjs transaction, RoomEventFeed) when the directory answers asynchronously
 * (PostgreSQL). A name not held yet reads as null this once (the event shows no sender name) and is
 * read in the background for the next time.
 */
export class UserNames {
  readonly #directory: DirectoryApi;
  readonly #names = new Map<string, string | null>();
  readonly #reading = new Set<string>();

  constructor(directory: DirectoryApi) {
    this.#directory = directory;
  }

  name(userId: string): string | null {
    const name = this.#names.get(userId);
    if (name !== undefined) return name;
    if (!this.#reading.has(userId)) {
      this.#reading.add(userId);
      void this.#directory.users
        .get(userId)
        .then((user) => this.#remember(userId, user?.name ?? null))
        .catch(() => {})
        .finally(() => this.#reading.delete(userId));
    }
    return null;
  }

  #remember(userId: string, name: string | null): void {
    this.#names.delete(userId);
    this.#names.set(userId, name);
    if (this.#names.size > MAX_NAMES) this.#names.delete(this.#names.keys().next().value ?? userId);
  }
}
