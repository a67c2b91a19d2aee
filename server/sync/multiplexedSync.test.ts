import { afterEach, describe, expect, it, vi } from 'vitest';
import * as Y from 'yjs';
import { CloseCode } from '../../shared/protocol/closeCodes.ts';
import { encodeControl } from '../../shared/protocol/muxFrames.ts';
import { createMessage } from '../../shared/roomDoc/messageOps.ts';
import { listMessages } from '../../shared/roomDoc/queries.ts';
import { MuxSocket } from '../../test/support/muxSocket.ts';
import { connectProvider, startTestServer, synced, untilDoc, type TestServer, type TestUser } from '../../test/support/serverHarness.ts';

vi.mock('../log.ts', () => import('../../test/support/logCapture.ts').then((m) => m.logModule));

const contents = (doc: Y.Doc): string[] => listMessages(doc, { limit: 1000 }).messages.map((m) => m.content);

/** The update of one message by `user`, made on a copy of `doc`. */
function messageUpdate(doc: Y.Doc, user: TestUser, content: string): Uint8Array {
  const copy = new Y.Doc();
  Y.applyUpdate(copy, Y.encodeStateAsUpdate(doc));
  const before = Y.encodeStateVector(copy);
  const result = createMessage(copy, { userId: user.id, role: 'member' }, { content });
  if (!result.ok) throw new Error(result.message);
  return Y.encodeStateAsUpdate(copy, before);
}

let t: TestServer;
afterEach(() => t.dispose());

describe('the multiplexed sync endpoint (/ws/sync)', () => {
  it('syncs several rooms on one socket, next to a stock provider on /sync/<roomId>', async () => {
    t = await startTestServer();
    const ana = await t.login('Ana');
    const ben = await t.login('Ben');
    const rooms = [await t.createRoom(ana, [ben]), await t.createRoom(ana, [ben]), await t.createRoom(ana, [ben])];
    const stock = connectProvider(t, rooms[1]!, ben);
    await synced(stock);

    const mux = await MuxSocket.open(t, ana);
    const joined = await Promise.all(rooms.map((roomId) => mux.join(roomId)));
    for (const [i, { channel, doc }] of joined.entries()) {
      mux.sendUpdate(channel, messageUpdate(doc, ana, `hello room ${i}`));
      await mux.next(channel, (f) => f.type === 'ack');
    }
    await untilDoc(stock.doc, (doc) => contents(doc).includes('hello room 1'));
    expect(contents(stock.doc)).toEqual(['hello room 1']);

    // The stock provider's message reaches the socket on room 1's channel only.
    createMessage(stock.doc, { userId: ben.id, role: 'member' }, { content: 'from the stock provider' });
    const [, second] = joined;
    const relayed = await mux.next(second!.channel, (f) => f.type === 'update');
    if (relayed.type === 'update') Y.applyUpdate(second!.doc, relayed.update);
    expect(contents(second!.doc)).toContain('from the stock provider');
    expect(mux.framesOn(joined[0]!.channel).some((f) => f.type === 'update')).toBe(false);
    stock.destroy();
    mux.close();
  });

  it('ends a channel alone: no access (4403, 4404), a refused update (4422), a removed member; the socket and its other channels go on', async () => {
    t = await startTestServer();
    const ana = await t.login('Ana');
    const ben = await t.login('Ben');
    const theirs = await t.createRoom(ana, []);
    const shared = await t.createRoom(ana, [ben]);
    const other = await t.createRoom(ana, [ben]);
    const mux = await MuxSocket.open(t, ben);

    const forbidden = mux.openChannel(theirs);
    expect(await mux.closed(forbidden)).toMatchObject({ code: CloseCode.Forbidden, errorCode: 'Forbidden' });
    const unknown = mux.openChannel('not-a-room');
    expect(await mux.closed(unknown)).toMatchObject({ code: CloseCode.RoomNotFound });

    const a = await mux.join(shared);
    const b = await mux.join(other);
    // Ben writes as Ana: refused, channel a ends with the refusal's code.
    mux.sendUpdate(a.channel, messageUpdate(a.doc, ana, 'forged'));
    expect(await mux.closed(a.channel)).toMatchObject({ code: CloseCode.UpdateRefused, errorCode: 'bad_message' });
    // Channel b still works.
    mux.sendUpdate(b.channel, messageUpdate(b.doc, ben, 'still here'));
    await mux.next(b.channel, (f) => f.type === 'ack');

    // Removed from `other`: its channel ends with 4403, the socket stays open.
    const again = await mux.join(shared);
    const removed = mux.closed(b.channel);
    expect((await t.api(ana, 'DELETE', `/api/rooms/${other}/members/${ben.id}`)).status).toBe(204);
    expect(await removed).toMatchObject({ code: CloseCode.Forbidden });
    mux.sendUpdate(again.channel, messageUpdate(again.doc, ben, 'after the removal elsewhere'));
    await mux.next(again.channel, (f) => f.type === 'ack');
    mux.close();
  });

  it('bounds the documents one socket holds (4530 for one more), and closes the socket for a reused channel number or a malformed frame', async () => {
    t = await startTestServer({ PARLEY_MAX_DOCS_PER_CONNECTION: '2' });
    const ana = await t.login('Ana');
    const rooms = [await t.createRoom(ana, []), await t.createRoom(ana, []), await t.createRoom(ana, [])];
    const mux = await MuxSocket.open(t, ana);
    const first = await mux.join(rooms[0]!);
    await mux.join(rooms[1]!);
    const third = mux.openChannel(rooms[2]!);
    expect(await mux.closed(third)).toMatchObject({ code: CloseCode.TooManyConnections });
    // Closing one makes room for another.
    mux.closeChannel(first.channel);
    await mux.join(rooms[2]!);

    mux.raw.send(encodeControl({ type: 'open', channel: first.channel, document: rooms[0]! }));
    expect((await mux.raw.closed).code).toBe(CloseCode.ProtocolError);

    const bad = await MuxSocket.open(t, ana);
    bad.raw.send(new Uint8Array([0x80]));
    expect((await bad.raw.closed).code).toBe(CloseCode.ProtocolError);
  });
});
