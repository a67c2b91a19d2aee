import * as Y from 'yjs';
import * as encoding from 'lib0/encoding';
import * as decoding from 'lib0/decoding';
import * as syncProtocol from 'y-protocols/sync';
import { MessageType } from '../../shared/protocol/messageTypes.ts';
import { readError } from '../../shared/protocol/parleyMessages.ts';
import { encodeAwarenessEntries, type AwarenessEntry } from '../../server/sync/awarenessEntries.ts';
import { RawSocket, messageTypeOf } from './rawSocket.ts';
import type { TestServer, TestUser } from './serverHarness.ts';

/** sync • update(upd): what a provider sends for each local transaction. */
export function updateFrame(update: Uint8Array): Uint8Array {
  const encoder = encoding.createEncoder();
  encoding.writeVarUint(encoder, MessageType.Sync);
  syncProtocol.writeUpdate(encoder, update);
  return encoding.toUint8Array(encoder);
}

/** sync • syncStep1(sv): asks the server for everything `sv` lacks (all of it when empty). */
export function step1Frame(stateVector: Uint8Array = Y.encodeStateVector(new Y.Doc())): Uint8Array {
  const encoder = encoding.createEncoder();
  encoding.writeVarUint(encoder, MessageType.Sync);
  encoding.writeVarUint(encoder, syncProtocol.messageYjsSyncStep1);
  encoding.writeVarUint8Array(encoder, stateVector);
  return encoding.toUint8Array(encoder);
}

/** awareness • awarenessUpdate(entries). */
export function awarenessFrame(entries: readonly AwarenessEntry[]): Uint8Array {
  const encoder = encoding.createEncoder();
  encoding.writeVarUint(encoder, MessageType.Awareness);
  encoding.writeVarUint8Array(encoder, encodeAwarenessEntries(entries));
  return encoding.toUint8Array(encoder);
}

/** Whether a frame is sync • syncStep2 (the server's answer to a step 1). */
export function isStep2(frame: Uint8Array): boolean {
  const d = decoding.createDecoder(frame);
  return decoding.readVarUint(d) === MessageType.Sync && decoding.readVarUint(d) === syncProtocol.messageYjsSyncStep2;
}

/** A raw socket on a room as `user`, with Parley's extra messages. */
export const openRaw = (t: TestServer, roomId: string, user: TestUser): Promise<RawSocket> =>
  RawSocket.open(`${t.syncUrl}/${roomId}?token=${user.token}&parley=1`);

/** The Parley error messages a socket received, decoded. */
export const errorsOf = (raw: RawSocket): Array<{ code: string; reason: string }> => errorsIn(raw.received);

/** The Parley error messages among `messages`, decoded. */
export function errorsIn(messages: readonly Uint8Array[]): Array<{ code: string; reason: string }> {
  return messages
    .filter((m) => messageTypeOf(m) === MessageType.Error)
    .map((m) => {
      const d = decoding.createDecoder(m);
      decoding.readVarUint(d);
      return readError(d);
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
