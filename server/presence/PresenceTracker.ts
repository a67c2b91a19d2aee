/** `connected`: first connection opened; `disconnected`: last one closed; `status`: custom status text changed. */
export type PresenceChange = { userId: string; online: boolean; at: number; cause: 'connected' | 'disconnected' | 'status' };
type Listener = (change: PresenceChange) => void;

/**
 * Who is online: a user is online while any device holds any connection (sync or command).
 * Counts live in memory; a restart starts everyone offline, which is the truth after a restart.
 */
export class PresenceTracker {
  readonly #connections = new Map<string, number>();
  readonly #listeners = new Set<Listener>();

  isOnline(userId: string): boolean {
    return (this.#connections.get(userId) ?? 0) > 0;
  }

  /** Registers one connection of `userId`; returns the function that unregisters it (idempotent). */
  connect(userId: string, now: () => number = Date.now): () => void {
    const before = this.#connections.get(userId) ?? 0;
    this.#connections.set(userId, before + 1);
    if (before === 0) this.#emit({ userId, online: true, at: now(), cause: 'connected' });
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const count = (this.#connections.get(userId) ?? 1) - 1;
      if (count > 0) {
        this.#connections.set(userId, count);
        return;
      }
      this.#connections.delete(userId);
      this.#emit({ userId, online: false, at: now(), cause: 'disconnected' });
    };
  }

  /** Tells listeners the user's status text changed (it is stored elsewhere). */
  statusChanged(userId: string, now: () => number = Date.now): void {
    this.#emit({ userId, online: this.isOnline(userId), at: now(), cause: 'status' });
  }

  /** Subscribes to online/offline transitions; returns the unsubscribe function. */
  on(listener: Listener): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  #emit(change: PresenceChange): void {
    for (const listener of this.#listeners) listener(change);
  }
}
