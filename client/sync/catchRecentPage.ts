import type { MessageView } from '../../shared/roomDoc/messageView.ts';
import type { RoomConnection } from './RoomConnection.ts';

/** A recent page caught on a background sync's connection (see catchRecentPage). */
export interface CaughtRecentPage {
  /** Waits up to `timeoutMs` for a page; ends sooner once one arrives, the connection goes offline, or `cut()`. */
  arrival(timeoutMs: number): Promise<void>;
  /** Ends a wait under way at once (someone waits for the sync to be over: an open of the room gets the page itself). */
  cut(): void;
  /** Stops listening; resolves once a page being kept is. */
  end(): Promise<void>;
}

/**
 * Listens on `connection` for the recent page the server sends with a segmented room's head
 * (shared/protocol/recentPage.ts) and hands the first one to `keep` as it arrives, so that an open
 * of the room waiting for this sync can paint it before the head (thousands of tombstones) has
 * synced. `keep` must not reject.
 */
export function catchRecentPage(connection: Pick<RoomConnection, 'on'>, keep: (messages: readonly MessageView[]) => Promise<void>): CaughtRecentPage {
  let keeping: Promise<void> | null = null;
  let cut = false;
  /** Ends the wait under way, if any. */
  let stopWaiting = (): void => {};
  const off = connection.on('recent', (messages) => {
    if (keeping) return;
    keeping = keep(messages);
    stopWaiting();
  });
  return {
    arrival(timeoutMs) {
      if (keeping || cut) return Promise.resolve();
      return new Promise((resolve) => {
        const timer = setTimeout(() => stopWaiting(), timeoutMs);
        const offState = connection.on('state', (state) => state === 'offline' && stopWaiting());
        stopWaiting = () => {
          clearTimeout(timer);
          offState();
          stopWaiting = () => {};
          resolve();
        };
      });
    },
    cut() {
      cut = true;
      stopWaiting();
    },
    async end() {
      off();
      await keeping;
    },
  };
}
