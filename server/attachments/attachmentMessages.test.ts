import { existsSync } from 'node:fs';
import path from 'node:path';
import * as Y from 'yjs';
import { afterEach, describe, expect, it } from 'vitest';
import { uuidv7 } from '../../shared/ids.ts';
import { toAttachmentRef, type Attachment } from '../../shared/models/attachment.ts';
import { roomMaps } from '../../shared/roomDoc/layout.ts';
import { CommandAnswerSchemas } from '../../shared/commands/commandAnswers.ts';
import { CommandClient, answerFailed, answerOk, sendCommand } from '../../test/support/commandClient.ts';
import { closedByServer, connectProvider, startWithRoom, synced, type TwoMemberRoom } from '../../test/support/serverHarness.ts';
import { download, pngOf, uploaded } from '../../test/support/attachmentUploads.ts';

/*
 * Messages with attachments on a real server: send_message over the command socket, the
 * validator against a stock y-websocket client, and garbage collection after a deletion or an
 * unused upload's grace period (sweep(now) runs a pass at any clock: nothing sleeps).
 */
let s: TwoMemberRoom;
const clients: CommandClient[] = [];
afterEach(async () => {
  await Promise.all(clients.splice(0).map((c) => c.close()));
  await s.t.dispose();
});

async function connect(user: TwoMemberRoom['ana']): Promise<CommandClient> {
  const c = await CommandClient.connect(s.t, user);
  clients.push(c);
  return c;
}

const blobPath = (a: { etag: string }): string => {
  const key = a.etag.slice(1, -1);
  return path.join(s.t.dataDir, 'blobs', key.slice(0, 2), key.slice(2, 4), key);
};

async function etagOf(a: Attachment): Promise<string> {
  return (await download(s.t, s.ana, a.url)).headers.get('etag')!;
}

describe('send_message with attachments', () => {
  it('stores the full references and answers a ChatMessage carrying them with their URLs', async () => {
    s = await startWithRoom();
    const { t, ana, ben, roomId } = s;
    const photo = await uploaded(t, ana, roomId, await pngOf(800, 600), { name: 'view.png' });
    const doc = await uploaded(t, ana, roomId, Buffer.from('%PDF-1.4\n'), { name: 'plan.pdf' });
    const anaC = await connect(ana);
    const benC = await connect(ben);
    answerOk(await benC.request('join_room', { room_id: roomId }), 'join_room');
    const message = await sendCommand(anaC, roomId, 'the view, and the plan', { message_type: 'image', attachments: [{ id: photo.id }, { id: doc.id }] });
    expect(message.attachments).toEqual([photo, doc]);
    expect(message.attachments[0]).toMatchObject({ url: `/api/rooms/${roomId}/attachments/${photo.id}`, thumbnail_url: `/api/rooms/${roomId}/attachments/${photo.id}/thumbnail`, width: 800, height: 600 });
    const event = await benC.event('message_created');
    expect(CommandAnswerSchemas.send_message.parse(event.data).message.attachments).toEqual([photo, doc]);
    // What the room document holds is the recorded reference.
    const stored = roomMaps(t.server.registry.open(roomId).doc).messages.get(message.id) as { attachments: unknown };
    expect(stored.attachments).toEqual([toAttachmentRef(photo), toAttachmentRef(doc)]);
  });

  it('answers invalid_payload for a text message, an unknown id, another room\'s or another user\'s upload', async () => {
    s = await startWithRoom();
    const { t, ana, ben, roomId } = s;
    const mine = await uploaded(t, ana, roomId, Buffer.from('mine'));
    const bens = await uploaded(t, ben, roomId, Buffer.from('his'));
    const other = await t.createRoom(ana, []);
    const elsewhere = await uploaded(t, ana, other, Buffer.from('elsewhere'));
    const anaC = await connect(ana);
    const cases: Array<[Record<string, unknown>, RegExp]> = [
      [{ message_type: 'text', attachments: [{ id: mine.id }] }, /image or file/],
      [{ message_type: 'file', attachments: [{ id: uuidv7() }] }, /not an upload to this room/],
      [{ message_type: 'file', attachments: [{ id: elsewhere.id }] }, /not an upload to this room/],
      [{ message_type: 'file', attachments: [{ id: bens.id }] }, /someone else/],
    ];
    for (const [extra, message] of cases) {
      const answer = await anaC.request('send_message', { room_id: roomId, content: 'x', ...extra });
      expect(answerFailed(answer, 'send_message', 'invalid_payload')).toMatch(message);
    }
    const history = CommandAnswerSchemas.fetch_history.parse(answerOk(await anaC.request('fetch_history', { room_id: roomId, limit: 50 }), 'fetch_history'));
    expect(history.messages).toEqual([]);
  });
});

describe('the validator on the sync path', () => {
  it('refuses a stock client\'s message naming another user\'s upload or forging its size, and the room stays unchanged', async () => {
    s = await startWithRoom();
    const { t, ana, ben, roomId } = s;
    const anas = await uploaded(t, ana, roomId, Buffer.from('ana wrote this'), { type: 'text/plain', name: 'a.txt' });
    for (const ref of [toAttachmentRef(anas), { ...toAttachmentRef(anas), size: 1 }]) {
      const doc = new Y.Doc();
      const provider = connectProvider(t, roomId, ben, doc);
      await synced(provider);
      const closed = closedByServer(provider);
      const id = uuidv7();
      // Ben names Ana's upload (or Ana's with a forged size) as his own.
      roomMaps(doc).messages.set(id, { id, senderId: ben.id, type: 'file', content: 'mine now', meta: {}, createdAt: Number.parseInt(id.slice(0, 8) + id.slice(9, 13), 16), attachments: [ref] });
      expect((await closed).code).toBe(4422);
      provider.destroy();
      expect(roomMaps(t.server.registry.open(roomId).doc).messages.size).toBe(0);
    }
    // His own upload, as recorded, passes.
    const bens = await uploaded(t, ben, roomId, Buffer.from('ben wrote this'), { type: 'text/plain', name: 'b.txt' });
    const doc = new Y.Doc();
    const provider = connectProvider(t, roomId, ben, doc);
    await synced(provider);
    const id = uuidv7();
    roomMaps(doc).messages.set(id, { id, senderId: ben.id, type: 'file', content: '', meta: {}, createdAt: Number.parseInt(id.slice(0, 8) + id.slice(9, 13), 16), attachments: [toAttachmentRef(bens)] });
    const anaC = await connect(ana);
    await expect.poll(async () => CommandAnswerSchemas.fetch_history.parse(answerOk(await anaC.request('fetch_history', { room_id: roomId, limit: 5 }), 'fetch_history')).messages.map((m) => m.attachments)).toEqual([[bens]]);
    provider.destroy();
  });
});

describe('garbage collection', () => {
  it('deleting a message removes its attachment (record and blob), but keeps a blob another upload shares', async () => {
    s = await startWithRoom();
    const { t, ana, ben, roomId } = s;
    const bytes = Buffer.from('shared bytes '.repeat(100));
    const first = await uploaded(t, ana, roomId, bytes, { name: 'one.txt' });
    const twin = await uploaded(t, ben, roomId, bytes, { name: 'two.txt' });
    const photo = await uploaded(t, ana, roomId, await pngOf(600, 400), { name: 'p.png' });
    const sharedBlob = blobPath({ etag: await etagOf(first) });
    const photoBlob = blobPath({ etag: await etagOf(photo) });
    const anaC = await connect(ana);
    const benC = await connect(ben);
    const m1 = await sendCommand(anaC, roomId, '', { message_type: 'file', attachments: [{ id: first.id }, { id: photo.id }] });
    await sendCommand(benC, roomId, '', { message_type: 'file', attachments: [{ id: twin.id }] });

    const far = Date.now() + 365 * 86_400_000;
    expect(await t.server.attachmentSweeper.sweep(far)).toEqual({ records: 0, blobs: 0 });
    answerOk(await anaC.request('delete_message', { room_id: roomId, message_id: m1.id }), 'delete_message');
    // The photo's bytes and thumbnail go; the shared bytes stay for Ben's twin.
    expect(await t.server.attachmentSweeper.sweep()).toEqual({ records: 2, blobs: 2 });
    expect((await download(t, ana, first.url)).status).toBe(404);
    expect((await download(t, ana, photo.url)).status).toBe(404);
    expect(existsSync(photoBlob)).toBe(false);
    expect(existsSync(sharedBlob)).toBe(true);
    expect((await download(t, ana, twin.url)).bytes.equals(bytes)).toBe(true);
  });

  it('an upload no message refers to is removed once the grace period has passed, not before', async () => {
    s = await startWithRoom({ PARLEY_ATTACHMENT_GRACE_MS: '3600000' });
    const { t, ana, roomId } = s;
    const unused = await uploaded(t, ana, roomId, Buffer.from('never sent'));
    const blob = blobPath({ etag: await etagOf(unused) });
    const now = Date.now();
    expect(await t.server.attachmentSweeper.sweep(now + 3_500_000)).toEqual({ records: 0, blobs: 0 });
    expect(existsSync(blob)).toBe(true);
    expect(await t.server.attachmentSweeper.sweep(now + 3_700_000)).toEqual({ records: 1, blobs: 1 });
    expect(existsSync(blob)).toBe(false);
    expect((await download(t, ana, unused.url)).status).toBe(404);
  });

  it('references survive a restart: a message sent before it keeps its attachment past the grace period', async () => {
    s = await startWithRoom({ PARLEY_ATTACHMENT_GRACE_MS: '1000' });
    const { t, ana, roomId } = s;
    const kept = await uploaded(t, ana, roomId, Buffer.from('kept'));
    const anaC = await connect(ana);
    await sendCommand(anaC, roomId, '', { message_type: 'file', attachments: [{ id: kept.id }] });
    await anaC.close();
    clients.splice(0);
    await t.restart();
    expect(await t.server.attachmentSweeper.sweep(Date.now() + 86_400_000)).toEqual({ records: 0, blobs: 0 });
    expect((await download(t, ana, kept.url)).status).toBe(200);
  });
});
