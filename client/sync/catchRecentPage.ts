import type { MessageView } from '../../shared/roomDoc/messageView.ts';
import type { RoomConnection } from './RoomConnection.ts';

/** A recent page caught on a background sync's connection (see catchRecentPage). */
export interface CaughtRecentPage {
  /** Waits up to `timeoutMs` for a page (less once the connection goes offline). */
  arrival(timeoutMs: number): Promise<void>;
  /** Stops listening; resolves once a page being kept is. */
  end(): Promise<void>;
}

/**
 * Listens on `connection` for the recent page the server sends with a segmented room's head
 * (shared/protocol/recentPage.ts) and hands the first one to `keep` as it arrives, so that an open
 * of the room waiting for this sync can paint it before the head (thousands of tombstones) has
 * synced. `keep` must not reject.
 */
export function catchRecentPage(connection: RoomConnection, keep: (messages: readonly MessageView[]) => Promise<void>): CaughtRecentPage {
  let keeping: Promise<void> | null = null;
  const arrivals = new Set<() => void>();
  const off = connection.on('recent', (messages) => {
    if (keeping) return;
    keeping = keep(messages);
    for (const arrived of arrivals) arrived();
  });
  return {
    arrival(timeoutMs) {
      if (keeping) return Promise.resolve();
      return new Promise((resolve) => {
        const done = (): void => {
          clearTimeout(timer);
          offState();
          arrivals.delete(done);
          resolve();
        };
        const timer = setTimeout(done, timeoutMs);
        const offState = connection.on('state', (state) => {
          if (state === 'offline') done();
        });
        arrivals.add(done);
      });
    },
    async end() {
      off();
      await keeping;
    },
  };
}
