export interface BackgroundSyncOptions {
  /** Most rooms synced at once in the background (each holds one WebSocket while it syncs). Default 3. */
  readonly maxConnections?: number;
  /** Pause between two sweeps over every room (ms). Default 60,000. */
  readonly intervalMs?: number;
}

export interface BackgroundSyncDeps extends BackgroundSyncOptions {
  /** The rooms to keep up to date, most important first (rooms open in the foreground excluded). */
  readonly rooms: () => readonly string[];
  /** Connects, catches up both ways, disconnects. Never rejects. */
  readonly syncOnce: (roomId: string) => Promise<void>;
}

/**
 * Keeps rooms the user has not opened up to date, so unread counts and offline reading work,
 * without holding a socket per room: a sweep syncs each room once (connect, exchange what each
 * side lacks, wait for the ack, disconnect), at most `maxConnections` at a time, then sleeps
 * `intervalMs`. `kick()` starts a sweep now (after sign-in, on coming back online, after the room
 * list changed).
 */
export class BackgroundSync {
  readonly #deps: BackgroundSyncDeps;
  #timer: ReturnType<typeof setTimeout> | null = null;
  #sweeping: Promise<void> | null = null;
  #again = false;
  #stopped = false;

  constructor(deps: BackgroundSyncDeps) {
    this.#deps = deps;
  }

  get maxConnections(): number {
    return Math.max(1, this.#deps.maxConnections ?? 3);
  }

  /** Starts a sweep now, or right after the running one. Resolves when that sweep is done. */
  kick(): Promise<void> {
    if (this.#stopped) return Promise.resolve();
    if (this.#sweeping) {
      this.#again = true;
      return this.#sweeping;
    }
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = null;
    this.#sweeping = this.#sweep().finally(() => {
      this.#sweeping = null;
      if (this.#stopped) return;
      if (this.#again) {
        this.#again = false;
        void this.kick();
        return;
      }
      this.#timer = setTimeout(() => void this.kick(), this.#deps.intervalMs ?? 60_000);
    });
    return this.#sweeping;
  }

  /** Waits for the running sweep, and stops sweeping. */
  async stop(): Promise<void> {
    this.#stopped = true;
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = null;
    await this.#sweeping;
  }

  async #sweep(): Promise<void> {
    const queue = [...this.#deps.rooms()];
    const worker = async (): Promise<void> => {
      for (let roomId = queue.shift(); roomId !== undefined && !this.#stopped; roomId = queue.shift()) {
        await this.#deps.syncOnce(roomId);
      }
    };
    await Promise.all(Array.from({ length: Math.min(this.maxConnections, queue.length) }, worker));
  }
}
