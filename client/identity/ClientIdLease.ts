import type { LocalStore } from '../store/LocalStore.ts';
import type { ClientIdLocks } from './ClientIdLocks.ts';

/** Yjs client ids are unsigned 32-bit integers (what Y.Doc generates itself). */
const randomClientId = (): number => globalThis.crypto.getRandomValues(new Uint32Array(1))[0] ?? 0;

/**
 * The Yjs client id this ChatClient writes with. Every new client id a room sees slows every
 * later transaction on it (yjs#415), so a device reuses its ids across reloads: it takes the
 * oldest id of the device that no live client holds (a lock per id, so two tabs never share one)
 * and mints a new one only when all are taken. An id is retired for good when the server shows
 * more of it than this device has stored (`retire`): reusing it then would write a second change
 * under a clock the server already holds.
 */
export class ClientIdLease {
  #clientId: number;
  #release: () => void;
  readonly #store: LocalStore;
  readonly #locks: ClientIdLocks;
  readonly #lockPrefix: string;

  private constructor(clientId: number, release: () => void, store: LocalStore, locks: ClientIdLocks, lockPrefix: string) {
    this.#clientId = clientId;
    this.#release = release;
    this.#store = store;
    this.#locks = locks;
    this.#lockPrefix = lockPrefix;
  }

  /** `scope` names the database the ids belong to (one per user and origin). */
  static async acquire(store: LocalStore, locks: ClientIdLocks, scope: string, now: () => number = Date.now): Promise<ClientIdLease> {
    const lockPrefix = `parley-client-id:${scope}:`;
    const { clientId, release } = await takeFree(store, locks, lockPrefix, now);
    return new ClientIdLease(clientId, release, store, locks, lockPrefix);
  }

  get clientId(): number {
    return this.#clientId;
  }

  /** Retires the current id for good and takes another; resolves with the new id. */
  async retire(now: () => number = Date.now): Promise<number> {
    const old = this.#clientId;
    const rows = await this.#store.getClientIds();
    const row = rows.find((r) => r.clientId === old);
    await this.#store.putClientId({ clientId: old, createdAt: row?.createdAt ?? now(), retiredAt: now() });
    const next = await takeFree(this.#store, this.#locks, this.#lockPrefix, now);
    this.#release();
    this.#clientId = next.clientId;
    this.#release = next.release;
    return next.clientId;
  }

  release(): void {
    this.#release();
  }
}

async function takeFree(
  store: LocalStore,
  locks: ClientIdLocks,
  lockPrefix: string,
  now: () => number,
): Promise<{ clientId: number; release: () => void }> {
  const rows = (await store.getClientIds()).filter((r) => r.retiredAt === null).sort((a, b) => a.createdAt - b.createdAt || a.clientId - b.clientId);
  for (const row of rows) {
    const release = await locks.tryAcquire(lockPrefix + row.clientId);
    if (release) return { clientId: row.clientId, release };
  }
  const known = new Set((await store.getClientIds()).map((r) => r.clientId));
  for (;;) {
    const clientId = randomClientId();
    if (known.has(clientId)) continue;
    const release = await locks.tryAcquire(lockPrefix + clientId);
    if (!release) continue;
    // Stored before first use: a reload must find it, or it would mint yet another id.
    await store.putClientId({ clientId, createdAt: now(), retiredAt: null });
    return { clientId, release };
  }
}
