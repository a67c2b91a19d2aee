import { describe, expect, it } from 'vitest';
import * as Y from 'yjs';
import * as syncProtocol from 'y-protocols/sync';
import * as encoding from 'lib0/encoding';
import { decodeClientFrame, decodeServerFrame, encodeFrame, frameMessageType, type ClientFrame, type ServerFrame } from './frames.ts';
import { decodeAwarenessUpdate, encodeAwarenessUpdate } from './awarenessUpdate.ts';
import { MessageType } from './messageTypes.ts';

const bytes = (...values: number[]): Uint8Array => new Uint8Array(values);

describe('frame codec', () => {
  const doc = new Y.Doc();
  doc.getMap('m').set('k', 'v');
  const update = Y.encodeStateAsUpdate(doc);
  const stateVector = Y.encodeStateVector(doc);

  it.each<ClientFrame>([
    { type: 'syncStep1', stateVector },
    { type: 'syncStep2', update },
    { type: 'update', update },
    { type: 'awareness', update: encodeAwarenessUpdate([{ clientId: 7, clock: 2, state: { user: { id: 'x', name: 'X' } } }]) },
    { type: 'queryAwareness' },
  ])('round-trips the client frame $type', (frame) => {
    expect(decodeClientFrame(encodeFrame(frame))).toEqual({ ok: true, frame });
  });

  it.each<ServerFrame>([
    { type: 'syncStep1', stateVector },
    { type: 'update', update },
    { type: 'ack', stateVector },
    { type: 'error', code: 'forbidden', reason: 'not yours — ✋' },
    { type: 'recent', page: '{"messages":[]}' },
  ])('round-trips the server frame $type', (frame) => {
    expect(decodeServerFrame(encodeFrame(frame))).toEqual({ ok: true, frame });
  });

  it('writes the same bytes as y-protocols for the sync messages a stock client reads', () => {
    const stock = encoding.createEncoder();
    encoding.writeVarUint(stock, MessageType.Sync);
    syncProtocol.writeSyncStep1(stock, doc);
    expect(encodeFrame({ type: 'syncStep1', stateVector })).toEqual(encoding.toUint8Array(stock));
    const stockUpdate = encoding.createEncoder();
    encoding.writeVarUint(stockUpdate, MessageType.Sync);
    syncProtocol.writeUpdate(stockUpdate, update);
    expect(encodeFrame({ type: 'update', update })).toEqual(encoding.toUint8Array(stockUpdate));
  });

  it.each([
    ['an empty frame', bytes(), 'malformed frame'],
    ['a truncated varint', bytes(0x80), 'malformed frame'],
    ['a sync frame with no body', bytes(0), 'malformed sync message'],
    ['a length past the end', bytes(0, 2, 0xff, 0xff, 0x03), 'malformed sync message'],
    ['an unknown sync type', bytes(0, 9, 0), 'unknown sync message type 9'],
    ['an unknown message type', bytes(42), 'unknown message type 42'],
    ['an ack from a client', bytes(100, 0), 'unknown message type 100'],
    ['a recent page from a client', bytes(102, 0), 'unknown message type 102'],
  ])('refuses %s from a client with a reason, never a throw', (_name, frame, reason) => {
    expect(decodeClientFrame(frame)).toEqual({ ok: false, reason });
  });

  it('lets a client ignore message types it does not know, and names a truncated ack', () => {
    expect(decodeServerFrame(bytes(2, 0))).toEqual({ ok: true, frame: null });
    expect(decodeServerFrame(bytes(100, 5, 1))).toEqual({ ok: false, reason: 'malformed ack' });
    expect(decodeServerFrame(bytes(102, 9, 123))).toEqual({ ok: false, reason: 'malformed recent page' });
    expect(frameMessageType(bytes(101))).toBe(101);
    expect(frameMessageType(bytes())).toBeNull();
  });

  it('decodes awareness entries with their JSON unparsed, and refuses truncated ones', () => {
    const encoded = encodeAwarenessUpdate([{ clientId: 1, clock: 3, state: null }, { clientId: 2, clock: 1, state: { typing: true } }]);
    expect(decodeAwarenessUpdate(encoded)).toEqual([
      { clientId: 1, clock: 3, json: 'null' },
      { clientId: 2, clock: 1, json: '{"typing":true}' },
    ]);
    expect(decodeAwarenessUpdate(encoded.subarray(0, encoded.byteLength - 2))).toBeNull();
  });
});
