import * as Y from 'yjs';
import { MessageType } from '../../shared/protocol/messageTypes.ts';
import { decodeServerFrame, encodeFrame, type ErrorFrame } from '../../shared/protocol/frames.ts';
import { encodeAwarenessUpdate, type AwarenessEntry } from '../../shared/protocol/awarenessUpdate.ts';
import { RawSocket, messageTypeOf } from './rawSocket.ts';
import type { TestServer, TestUser } from './serverHarness.ts';

/** sync • update(upd): what a provider sends for each local transaction. */
export const updateFrame = (update: Uint8Array): Uint8Array => encodeFrame({ type: 'update', update });

/** sync • syncStep1(sv): asks the server for everything `sv` lacks (all of it when empty). */
export const step1Frame = (stateVector: Uint8Array = Y.encodeStateVector(new Y.Doc())): Uint8Array => encodeFrame({ type: 'syncStep1', stateVector });

/** awareness • awarenessUpdate(entries). */
export const awarenessFrame = (entries: readonly AwarenessEntry[]): Uint8Array => encodeFrame({ type: 'awareness', update: encodeAwarenessUpdate(entries) });

/** Whether a frame is sync • syncStep2 (the server's answer to a step 1). */
export function isStep2(frame: Uint8Array): boolean {
  const decoded = decodeServerFrame(frame);
  return decoded.ok && decoded.frame?.type === 'syncStep2';
}

/** The Parley error frame in `frame`, or null when it is none. */
export function errorFrameOf(frame: Uint8Array): ErrorFrame | null {
  const decoded = decodeServerFrame(frame);
  return decoded.ok && decoded.frame?.type === 'error' ? decoded.frame : null;
}

/** A raw socket on a room as `user`, with Parley's extra messages. */
export const openRaw = (t: TestServer, roomId: string, user: TestUser): Promise<RawSocket> =>
  RawSocket.open(`${t.syncUrl}/${roomId}?token=${user.token}&parley=1`);

/** The Parley error messages a socket received, decoded. */
export const errorsOf = (raw: RawSocket): Array<{ code: string; reason: string }> => errorsIn(raw.received);

/** The Parley error messages among `messages`, decoded. */
export function errorsIn(messages: readonly Uint8Array[]): Array<{ code: string; reason: string }> {
  return messages.flatMap((m) => {
    const error = errorFrameOf(m);
    return error ? [{ code: error.code, reason: error.reason }] : [];
  });
}

/**
 * How an opened socket fares: 'joined' once the server sends its first sync message (it did so
 * after join, so the socket holds a slot), or the close code if the server closed it first.
 */
export function joinedOrClosed(raw: RawSocket): Promise<'joined' | number> {
  return Promise.race([
    raw.next((m) => messageTypeOf(m) === MessageType.Sync).then(() => 'joined' as const),
    raw.closed.then(({ code }) => code),
  ]);
}
