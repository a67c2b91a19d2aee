import type { RoomReplica } from '../room/RoomReplica.ts';
import type { ClientError } from '../errors/ClientError.ts';
import type { RoomConnection } from './RoomConnection.ts';

/** How one background sync of a room ended. */
export type SyncOnceOutcome =
  /** Synced, and the server acknowledged everything of ours. */
  | 'done'
  /** The server could not be reached. */
  | 'unreachable'
  /** Reconnecting cannot help (access denied): reported as an error. */
  | 'stopped'
  /** Neither within the time allowed. */
  | 'timeout';

/**
 * Connects once, exchanges what each side lacks, and resolves once the server acknowledged
 * everything of ours (or the server is unreachable, the connection stopped, or time ran out).
 * The caller closes the connection.
 */
export function syncRoomOnce(replica: RoomReplica, connection: RoomConnection, timeoutMs: number, onStopped: (error: ClientError) => void): Promise<SyncOnceOutcome> {
  return new Promise((resolve) => {
    let tried = false;
    const offs: Array<() => void> = [];
    const timer = setTimeout(() => done('timeout'), timeoutMs);
    const done = (outcome: SyncOnceOutcome): void => {
      clearTimeout(timer);
      for (const off of offs) off();
      resolve(outcome);
    };
    const check = (): void => {
      // A connection holding the device's writes (after a refusal) only reads: done once synced.
      if (connection.synced && (connection.holding || !replica.hasPending())) done('done');
    };
    offs.push(
      connection.on('synced', check),
      replica.on('states', check),
      // Reported; the connection reads on, holding our writes, and is done once synced.
      connection.on('refused', onStopped),
      connection.on('stopped', (error) => {
        onStopped(error);
        done('stopped');
      }),
      connection.on('state', (state) => {
        if (state === 'connecting') tried = true;
        else if (state === 'offline' && tried && !connection.synced) done('unreachable');
      }),
    );
    connection.connect();
  });
}
