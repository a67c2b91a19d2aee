import type { Logger } from '../log.ts';
import type { AsyncApi } from '../storage/AsyncApi.ts';
import type { PresenceRepo } from '../storage/PresenceRepo.ts';
import type { PresenceChange } from './PresenceTracker.ts';

/** Where last seen is stored (a DirectoryApi's presence). */
export interface LastSeenStore {
  readonly presence: Pick<AsyncApi<PresenceRepo>, 'setLastSeen'>;
}

/**
 * What follows each presence change (PresenceTracker's events): on a user's last disconnection
 * their last seen time is stored, and then `tell` (the rooms' presence, the user feed) hears that
 * the user changed, so what those read is never older than the time just stored.
 *
 * With the directory asynchronous the write takes time, and a user may connect again meanwhile.
 * A user's changes are therefore handled in the order they happened, one after another (a later
 * one waits for the earlier one's write). `tell` carries no state: the listeners read who is online
 * from the tracker and the times from storage when they publish, so whatever interleaves, what
 * they publish last is the state after the last change. The stored time never moves backwards
 * (PresenceRepo). close() waits for the writes started; after it, changes are told but not stored.
 */
export class PresenceChanges {
  readonly #directory: LastSeenStore;
  readonly #logger: Logger;
  readonly #tell: (userId: string) => void;
  /** Per user, settles when their change handled last is done; gone once nothing is pending. */
  readonly #tails = new Map<string, Promise<void>>();
  readonly #inFlight = new Set<Promise<void>>();
  #closed = false;

  constructor(opts: { directory: LastSeenStore; logger: Logger; tell: (userId: string) => void }) {
    this.#directory = opts.directory;
    this.#logger = opts.logger;
    this.#tell = opts.tell;
  }

  /** PresenceTracker's listener. */
  changed(change: PresenceChange): void {
    const { userId } = change;
    const before = this.#tails.get(userId) ?? Promise.resolve();
    const done = before.then(async () => {
      if (change.cause === 'disconnected' && change.storeLastSeen !== false && !this.#closed) {
        try {
          await this.#directory.presence.setLastSeen(userId, change.at);
        } catch (err) {
          this.#logger.error({ err, user: userId }, 'presence: storing last seen failed');
        }
      }
      try {
        this.#tell(userId);
      } catch (err) {
        this.#logger.error({ err, user: userId }, 'presence: telling a change failed');
      }
    });
    this.#tails.set(userId, done);
    this.#inFlight.add(done);
    void done.then(() => {
      this.#inFlight.delete(done);
      if (this.#tails.get(userId) === done) this.#tails.delete(userId);
    });
  }

  /** Waits for the changes being handled (shutdown: before the database closes); later ones are not stored. */
  async close(): Promise<void> {
    while (this.#inFlight.size > 0) await Promise.all(this.#inFlight);
    this.#closed = true;
  }
}
