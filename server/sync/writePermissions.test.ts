import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import * as Y from 'yjs';
import type { WebsocketProvider } from 'y-websocket';
import { MessageType } from '../../shared/protocol/messageTypes.ts';
import { parseMessageEntry, roomMaps } from '../../shared/roomDoc/layout.ts';
import { createMessage } from '../../shared/roomDoc/messageOps.ts';
import { getMessage } from '../../shared/roomDoc/queries.ts';
import { addReaction } from '../../shared/roomDoc/reactionOps.ts';
import { awarenessFrame, errorFrameOf, updateFrame } from '../../test/support/syncFrames.ts';
import { RawSocket, messageTypeOf } from '../../test/support/rawSocket.ts';
import { acknowledged, connectProvider, startTestServer, startWithRoom, synced, untilDoc, type TestServer, type TestUser } from '../../test/support/serverHarness.ts';

/*
 * The validator in the sync path, over real sockets: a refused update reaches nobody and nothing,
 * its sender learns why and is disconnected, and everyone else keeps syncing.
 */


function decodeError(frame: Uint8Array): { code: string; reason: string } {
  const error = errorFrameOf(frame);
  if (!error) throw new Error('not an error frame');
  return { code: error.code, reason: error.reason };
}

/** What a replica produced while running `change`. */
function capture(doc: Y.Doc, change: () => void): Uint8Array {
  const updates: Uint8Array[] = [];
  const record = (u: Uint8Array): void => void updates.push(u);
  doc.on('update', record);
  change();
  doc.off('update', record);
  return Y.mergeUpdates(updates);
}

describe('write permissions in the sync path', () => {
  let t: TestServer;
  let ana: TestUser;
  let ben: TestUser;
  let roomId: string;
  const providers: WebsocketProvider[] = [];
  const sockets: RawSocket[] = [];

  beforeEach(async () => {
    ({ t, ana, ben, roomId } = await startWithRoom());
  });
  afterEach(async () => {
    for (const p of providers.splice(0)) p.destroy();
    for (const s of sockets.splice(0)) s.close();
    await t.dispose();
  });

  const open = (user: TestUser, doc = new Y.Doc()) => {
    const p = connectProvider(t, roomId, user, doc, { parley: true });
    providers.push(p);
    return p;
  };

  /** Ana sends a message through a stock provider and waits for the server to commit it. */
  async function anaSays(content: string): Promise<{ provider: WebsocketProvider; id: string }> {
    const provider = open(ana);
    await synced(provider);
    const result = createMessage(provider.doc, { userId: ana.id, role: 'owner' }, { content });
    if (!result.ok) throw new Error(result.message);
    await acknowledged(provider);
    return { provider, id: result.id };
  }

  /** A raw socket for Ben holding the room's current state, ready to send a hand-made update. */
  async function benReplica(): Promise<{ socket: RawSocket; doc: Y.Doc }> {
    const socket = await RawSocket.open(`${t.syncUrl}/${roomId}?token=${ben.token}&parley=1`);
    sockets.push(socket);
    const doc = new Y.Doc();
    const observer = connectProvider(t, roomId, ben, doc);
    await synced(observer);
    observer.destroy();
    return { socket, doc };
  }

  it('refuses an edit of someone else’s message: error with the reason, close 4422, not relayed, not stored', async () => {
    const { provider: anaProvider, id } = await anaSays('the original');
    const { socket, doc } = await benReplica();
    const forged = capture(doc, () => {
      const value = parseMessageEntry(id, roomMaps(doc).messages.get(id));
      roomMaps(doc).messages.set(id, { ...value, content: 'forged by ben' });
    });
    socket.send(updateFrame(forged));
    const error = decodeError(await socket.next((m) => messageTypeOf(m) === MessageType.Error));
    expect(error.code).toBe('forbidden');
    expect(error.reason).toContain(id);
    expect(await socket.closed).toEqual({ code: 4422, reason: expect.stringMatching(/^forbidden: /) as unknown as string });

    // Ana keeps syncing: her next message arrives at a fresh observer, the forged edit never does.
    const next = createMessage(anaProvider.doc, { userId: ana.id, role: 'owner' }, { content: 'still here' });
    if (!next.ok) throw new Error(next.message);
    await acknowledged(anaProvider);
    expect(getMessage(anaProvider.doc, id)?.content).toBe('the original');

    await t.restart();
    const fresh = open(ben);
    await synced(fresh);
    await untilDoc(fresh.doc, (d) => getMessage(d, next.id) !== null);
    expect(getMessage(fresh.doc, id)?.content).toBe('the original');
  });

  it('binds a client id to its first writer across restarts: another user reusing it is refused', async () => {
    const { provider, id } = await anaSays('mine');
    const anaClientId = provider.doc.clientID;
    await t.restart();
    const { socket, doc } = await benReplica();
    doc.clientID = anaClientId;
    const stolen = capture(doc, () => void addReaction(doc, { userId: ben.id, role: 'member' }, { messageId: id, reaction: '👍' }));
    socket.send(updateFrame(stolen));
    expect(decodeError(await socket.next((m) => messageTypeOf(m) === MessageType.Error)).code).toBe('client_id_taken');
    expect((await socket.closed).code).toBe(4422);
  });

  it('a stock client (no parley=1) is refused with the close reason alone', async () => {
    const { id } = await anaSays('hello');
    const socket = await RawSocket.open(`${t.syncUrl}/${roomId}?token=${ben.token}`);
    sockets.push(socket);
    const doc = new Y.Doc();
    const observer = open(ben, doc);
    await synced(observer);
    const forged = capture(doc, () => roomMaps(doc).deletions.set(id, { deletedAt: Date.now(), deletedBy: ben.id }));
    socket.send(updateFrame(forged));
    expect(await socket.closed).toEqual({ code: 4422, reason: expect.stringMatching(/^forbidden: /) as unknown as string });
    expect(socket.received.some((m) => messageTypeOf(m) === MessageType.Error)).toBe(false);
  });

  it('refuses awareness for a client id that writes to the document as another user', async () => {
    const { provider } = await anaSays('hello');
    const watcher = open(ana);
    await synced(watcher);
    // Ana's provider leaves the room: its awareness state is gone, but its client id stays hers.
    const anaClientId = provider.doc.clientID;
    provider.destroy();
    const socket = await RawSocket.open(`${t.syncUrl}/${roomId}?token=${ben.token}&parley=1`);
    sockets.push(socket);
    const frame = (clientId: number, state: Record<string, unknown>) => awarenessFrame([{ clientId, clock: 10_000, state }]);
    socket.send(frame(anaClientId, { typing: 'as ana' }));
    socket.send(frame(31337, { typing: 'as ben' }));
    await new Promise<void>((resolve) => {
      const check = () => watcher.awareness.getStates().get(31337)?.typing === 'as ben' && resolve();
      watcher.awareness.on('change', check);
      check();
    });
    expect(watcher.awareness.getStates().get(anaClientId)).toBeUndefined();
  });
});
