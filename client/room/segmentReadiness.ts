import { messageCount } from '../../shared/roomDoc/queries.ts';
import type { RoomConnection } from '../sync/RoomConnection.ts';
import type { RoomReplica } from './RoomReplica.ts';
import type { OpenSegment } from './RoomSegments.ts';

/*
 * Waiting for a segment open on this device to be readable (RoomDocuments' paging, RoomPins'
 * check of a message before a pin): every wait ends on an event of the segment's connection or
 * replica, or when the device is offline (then its copy is all there is).
 */

export const offlineOrStopped = (connection: RoomConnection): boolean => connection.state === 'offline' || connection.stopped !== null;

/** Resolves once the connection applied the server's state, or is offline (then the device's copy is all there is). */
export async function syncedOrOffline(connection: RoomConnection): Promise<void> {
  await settled(connection, () => connection.synced);
}

/** Resolves once the segment holds `count` messages, or its connection is offline or stopped. */
export async function holdsOrOffline(segment: OpenSegment, count: number): Promise<void> {
  await settled(segment.connection, () => messageCount(segment.replica.doc) >= count, segment.replica);
}

/**
 * Resolves once `ready()` holds (checked on the connection's and the replica's events), the
 * connection is offline or stopped, or `timeoutMs` passed (then false), whichever comes first.
 */
export function settled(connection: RoomConnection, ready: () => boolean, replica?: RoomReplica, timeoutMs = Infinity): Promise<boolean> {
  const done = (): boolean => ready() || offlineOrStopped(connection);
  if (done()) return Promise.resolve(true);
  return new Promise((resolve) => {
    const finish = (ok: boolean): void => {
      if (timer !== undefined) clearTimeout(timer);
      for (const off of offs) off();
      resolve(ok);
    };
    const check = (): void => {
      if (done()) finish(true);
    };
    const offs = [connection.on('synced', check), connection.on('state', check), connection.on('stopped', check), ...(replica ? [replica.on('changed', check)] : [])];
    const timer = Number.isFinite(timeoutMs) ? setTimeout(() => finish(false), timeoutMs) : undefined;
  });
}
