import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { encodeFrame } from '../../shared/protocol/frames.ts';
import { DEFAULT_SYNC_LIMITS } from '../limits/SyncLimits.ts';
import type { Room } from './Room.ts';
import { RoomAttachment } from './RoomAttachment.ts';
import type { RoomPeer } from './RoomPeer.ts';
import type { RoomRegistry } from './RoomRegistry.ts';
import type { StoredDocs } from './StoredDocs.ts';

/** A promise and its resolve, for a step the test lets through. */
function gate<T>(): { promise: Promise<T>; open: (value: T) => void } {
  let open: (value: T) => void = () => {};
  const promise = new Promise<T>((resolve) => (open = resolve));
  return { promise, open };
}

/**
 * A peer reading a sealed segment from storage whose first write waits for its upload records
 * (PostgreSQL: UploadRecords) while later frames queue behind it; the write then needs the
 * document loaded, which an asynchronous store loads later. Every frame reaches the room once,
 * in the order it came, and nothing spins while the document loads.
 */
describe('RoomAttachment', () => {
  it('hands a write that waited for its prefetch, and the frames behind it, to the room loaded for it, in order', async () => {
    const write = encodeFrame({ type: 'update', update: new Uint8Array([0, 0]) });
    const awareness = encodeFrame({ type: 'awareness', update: new Uint8Array([0]) });
    const received: Uint8Array[] = [];
    const room = { join: () => {}, receive: (_peer: RoomPeer, frame: Uint8Array) => void received.push(frame) } as unknown as Room;
    const loading = gate<Room>();
    let opens = 0;
    const registry = {
      openReady: () => {
        opens++;
        return loading.promise;
      },
      released: () => {},
    } as unknown as RoomRegistry;
    // The stored segment answers reads itself; a write needs the document loaded.
    const stored = { serves: () => true, join: () => ({ receive: () => 'load' as const }), leave: () => null } as unknown as StoredDocs;
    const prefetched = gate<void>();
    let prefetches = 0;
    const prefetch = (frame: Uint8Array): Promise<void> | null => (frame === write && prefetches++ === 0 ? prefetched.promise : null);
    const peer = { id: 1, user: { id: 'ana', name: 'Ana' }, closed: false, close: () => {} } as unknown as RoomPeer;
    const attachment = new RoomAttachment(peer, 'room:0', { registry, logger: pino({ level: 'silent' }), limits: DEFAULT_SYNC_LIMITS, storedSegments: stored, prefetch });

    attachment.receive(write);
    attachment.receive(awareness);
    // The prefetch answers: the write leaves the stored segment and asks for the document, which is not loaded yet.
    prefetched.open();
    await prefetched.promise;
    await null;
    expect(opens).toBe(1);
    expect(received).toEqual([]);
    loading.open(room);
    await loading.promise;
    await null;
    expect(received).toEqual([write, awareness]);
  });

  it('says the peer joined once a membership recheck can find it: after the room loads, or at once on a stored segment', async () => {
    const room = { join: () => {}, receive: () => {} } as unknown as Room;
    const loading = gate<Room>();
    const registry = { openReady: () => loading.promise, released: () => {} } as unknown as RoomRegistry;
    const peer = { id: 1, user: { id: 'ana', name: 'Ana' }, closed: false, close: () => {} } as unknown as RoomPeer;
    const deps = { registry, logger: pino({ level: 'silent' }), limits: DEFAULT_SYNC_LIMITS };
    let joined = 0;
    new RoomAttachment(peer, 'room', deps, () => joined++);
    expect(joined).toBe(0);
    loading.open(room);
    await loading.promise;
    await null;
    expect(joined).toBe(1);

    let storedJoined = 0;
    const stored = { serves: () => true, join: () => ({ receive: () => 'handled' as const }), leave: () => null } as unknown as StoredDocs;
    new RoomAttachment(peer, 'room:0', { ...deps, storedSegments: stored }, () => storedJoined++);
    expect(storedJoined).toBe(1);
  });
});
