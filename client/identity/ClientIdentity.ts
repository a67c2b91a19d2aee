import type { RoomReplica } from '../room/RoomReplica.ts';
import type { ClientIdLease } from './ClientIdLease.ts';

/**
 * The Yjs client id this device writes with, and its retirement: when the server holds more
 * under our id than this device stored (the device lost data, or a copy of its database wrote
 * elsewhere), the id is retired for good and every live document switches to a fresh one before
 * sending anything (docs/client.md, "Client ids").
 */
export class ClientIdentity {
  readonly #lease: ClientIdLease;
  readonly #liveReplicas: () => Promise<RoomReplica[]>;
  readonly #onRetired: (clientId: number) => void;
  #retiring: Promise<void> | null = null;

  constructor(lease: ClientIdLease, liveReplicas: () => Promise<RoomReplica[]>, onRetired: (clientId: number) => void) {
    this.#lease = lease;
    this.#liveReplicas = liveReplicas;
    this.#onRetired = onRetired;
  }

  get clientId(): number {
    return this.#lease.clientId;
  }

  /** Retires the current id (once, however many rooms report the conflict at the same time). */
  retire(): Promise<void> {
    this.#retiring ??= (async () => {
      const next = await this.#lease.retire();
      for (const replica of await this.#liveReplicas()) replica.doc.clientID = next;
      this.#onRetired(next);
    })().finally(() => {
      this.#retiring = null;
    });
    return this.#retiring;
  }

  release(): void {
    this.#lease.release();
  }
}
