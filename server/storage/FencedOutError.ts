/**
 * A write refused because another node has taken one of its rooms since this node took it (its
 * fencing token is no longer the room's): nothing of the write was stored. The node must give
 * the rooms up; their clients reconnect to the new owner and resend what was not acknowledged.
 */
export class FencedOutError extends Error {
  readonly roomIds: readonly string[];

  constructor(roomIds: readonly string[]) {
    super(`fenced out: another node owns ${roomIds.join(', ')} now`);
    this.name = 'FencedOutError';
    this.roomIds = roomIds;
  }
}
