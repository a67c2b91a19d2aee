/**
 * An exclusive, non-blocking lock per name, held until released or until the holder's page is
 * gone. The Web Locks API where the platform has it (it releases a dead tab's locks by itself);
 * otherwise locks shared by every client in this JavaScript realm, which is what Node tests and
 * several ChatClients in one page need.
 */
export interface ClientIdLocks {
  /** The release function, or null when someone else holds the lock. */
  tryAcquire(name: string): Promise<(() => void) | null>;
}

interface WebLockManager {
  request(name: string, options: { ifAvailable: boolean; mode: 'exclusive' }, callback: (lock: unknown) => Promise<void>): Promise<void>;
}

export class WebLocks implements ClientIdLocks {
  readonly #locks: WebLockManager;
  constructor(locks: WebLockManager) {
    this.#locks = locks;
  }

  tryAcquire(name: string): Promise<(() => void) | null> {
    return new Promise((resolve, reject) => {
      this.#locks
        .request(name, { ifAvailable: true, mode: 'exclusive' }, (lock) => {
          if (lock === null) {
            resolve(null);
            return Promise.resolve();
          }
          // The lock is held until the promise the callback returned settles.
          return new Promise<void>((release) => resolve(() => release()));
        })
        .catch(reject);
    });
  }
}

const held = new Set<string>();

export class RealmLocks implements ClientIdLocks {
  async tryAcquire(name: string): Promise<(() => void) | null> {
    if (held.has(name)) return null;
    held.add(name);
    let released = false;
    return () => {
      if (released) return;
      released = true;
      held.delete(name);
    };
  }
}

/** Web Locks when available, else realm-wide locks. */
export function defaultClientIdLocks(): ClientIdLocks {
  const nav = (globalThis as { navigator?: { locks?: WebLockManager } }).navigator;
  return nav?.locks ? new WebLocks(nav.locks) : new RealmLocks();
}
