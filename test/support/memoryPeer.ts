import type { RoomPeer } from '../../server/sync/RoomPeer.ts';
import type { CloseCodeName } from '../../shared/protocol/closeCodes.ts';
import { decodeServerFrame, type ServerFrame } from '../../shared/protocol/frames.ts';

/** A room peer in memory (no socket): records every frame the room sends it, decoded, and how it was closed. */
export class MemoryPeer implements RoomPeer {
  static #next = 1;
  readonly id = MemoryPeer.#next++;
  readonly received: ServerFrame[] = [];
  /** Frames are handed over at once: nothing waits unsent. */
  readonly bufferedBytes = 0;
  closedWith: { name: CloseCodeName; reason: string; errorCode: string } | null = null;
  /** Checks waiting for frames; each returns true once it is satisfied (and is dropped then). */
  readonly #waiters = new Set<() => boolean>();
  constructor(
    readonly user: { id: string; name: string },
    readonly parley = true,
  ) {}
  get closed(): boolean {
    return this.closedWith !== null;
  }
  send(frame: Uint8Array): void {
    if (this.closed) return;
    const decoded = decodeServerFrame(frame);
    if (!decoded.ok || !decoded.frame) throw new Error(`the room sent an undecodable frame: ${JSON.stringify(decoded)}`);
    this.received.push(decoded.frame);
    this.#wake();
  }
  close(name: CloseCodeName, reason = '', errorCode: string = name): void {
    this.closedWith ??= { name, reason, errorCode };
    this.#wake();
  }
  framesOf<T extends ServerFrame['type']>(type: T): Array<Extract<ServerFrame, { type: T }>> {
    return this.received.filter((f): f is Extract<ServerFrame, { type: T }> => f.type === type);
  }
  /** Resolves once `count` frames of `type` have arrived (or the peer is closed: check `closedWith`). */
  until(type: ServerFrame['type'], count = 1): Promise<void> {
    return new Promise((resolve) => {
      const check = (): boolean => {
        if (this.framesOf(type).length < count && !this.closed) return false;
        resolve();
        return true;
      };
      if (!check()) this.#waiters.add(check);
    });
  }
  #wake(): void {
    for (const check of [...this.#waiters]) if (check()) this.#waiters.delete(check);
  }
}
