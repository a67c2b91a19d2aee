/**
 * Owner marking the server's own Yjs client id in a loaded room (its writes, such as re-tombstoning
 * deleted messages, are never validated). Not a uuid, so no user id can equal it.
 */
export const SERVER_OWNER = 'server';

/**
 * Which user owns each Yjs client id of one room. The first user to write with a client id owns it
 * (bindings are stored with the update that made them, in the same transaction); an item under a
 * client id owned by someone else is refused. Client ids that appear in the document with no
 * binding (the server's ids from earlier loads) belong to nobody and take no new writes.
 */
export class ClientOwners {
  readonly #owners = new Map<number, string>();
  readonly #perUser = new Map<string, number>();

  constructor(bindings: Iterable<readonly [clientId: number, userId: string]> = []) {
    for (const [clientId, userId] of bindings) this.bind(clientId, userId);
  }

  ownerOf(clientId: number): string | undefined {
    return this.#owners.get(clientId);
  }

  /** How many client ids the user owns in this room. */
  countFor(userId: string): number {
    return this.#perUser.get(userId) ?? 0;
  }

  bind(clientId: number, userId: string): void {
    const previous = this.#owners.get(clientId);
    if (previous === userId) return;
    if (previous !== undefined) throw new Error(`client id ${clientId} is already owned by ${previous}`);
    this.#owners.set(clientId, userId);
    this.#perUser.set(userId, this.countFor(userId) + 1);
  }
}
