import { afterAll, describe, expect, it } from 'vitest';
import type { ChatClient } from './ChatClient.ts';
import type { ChatRoom } from './room/ChatRoom.ts';
import { freePort, freshDbName, openTestClient, until } from '../test/support/clientHarness.ts';
import { gatedWebSocket } from '../test/support/gatedWebSocket.ts';
import { startWithRoom } from '../test/support/serverHarness.ts';

/*
 * A message with files keeps its files on the device until the server holds the message
 * (docs/client.md, "Attachments"), against a real server. The sync socket is kept from the
 * server (a gate) while REST goes through, so the files upload and the message waits in the room
 * unsent: the bytes stay until the acknowledgement, and are gone after it, also when the app
 * starts again after an acknowledgement it did not act on. When the server dropped the uploads
 * meanwhile (its grace period passed: the sweep runs at a later clock), it refuses the message
 * (`bad_attachment`); the device uploads the files again, rewrites the message under the same
 * id, and it is delivered with files another member downloads.
 */

const cleanup: Array<() => Promise<void>> = [];
afterAll(async () => {
  for (const fn of cleanup.reverse()) await fn();
});

const bytesOf = (text: string): Uint8Array => new TextEncoder().encode(text);
const text = (bytes: Uint8Array): string => new TextDecoder().decode(bytes);

/** Resolves once the message is in the room, no longer listed as waiting for its files, and its row says so on the device. */
async function written(client: ChatClient, room: ChatRoom, messageId: string): Promise<void> {
  await until(
    (c) => {
      const offs = [client.uploads.on('change', c), room.on('change', c)];
      return () => offs.forEach((off) => off());
    },
    () => room.getMessage(messageId) !== null && client.uploads.pending(room.id).length === 0,
    'the message to be written into its room',
  );
  await client.uploads.idle();
}

const state = (room: ChatRoom, messageId: string) => room.messageState(messageId)?.state;

describe('the files of a message stay on the device until the server holds the message', () => {
  it('keeps the bytes while the message is pending, deletes them once acknowledged, and after a restart drops a row whose message is already sent', async () => {
    const { t: server, roomId, ana } = await startWithRoom();
    cleanup.push(() => server.dispose());
    const gate = gatedWebSocket(await freePort());
    const dbName = freshDbName('delivery-ack');
    const client = await openTestClient({ serverUrl: server.url, token: ana.token, dbName, WebSocket: gate.WebSocket });
    const room = await client.openRoom(roomId);
    const sent = await client.uploads.send(roomId, { files: [{ name: 'notes.txt', declaredType: 'text/plain', bytes: bytesOf('kept until acknowledged') }], content: 'notes' });
    await written(client, room, sent.messageId);

    expect(state(room, sent.messageId)).toBe('pending');
    expect(room.getMessage(sent.messageId)?.attachments.map((a) => a.name)).toEqual(['notes.txt']);
    expect(client.uploads.holds(sent.messageId)).toBe(true);
    const [row] = await client.store.getUploads();
    expect(row).toMatchObject({ messageId: sent.messageId, written: { stale: false, rewrites: 0 } });
    const bytes = await client.store.getUploadBytes(sent.messageId, 0);
    expect(text(bytes!)).toBe('kept until acknowledged');

    gate.open();
    await client.reconnectNow();
    await until((c) => room.on('states', c), () => state(room, sent.messageId) === 'sent', 'the message to be acknowledged');
    await until((c) => client.uploads.on('change', c), () => !client.uploads.holds(sent.messageId), 'the bytes to be let go');
    expect(await client.store.getUploadBytes(sent.messageId, 0)).toBeNull();
    expect(await client.store.getUploads()).toEqual([]);

    // An app closed after the acknowledgement and before it deleted the row (the row is put back):
    // on the next start, offline, the row goes as soon as the room's stored state is read.
    await client.store.putUpload(row!, [bytes!]);
    await client.close();
    gate.shut();
    const again = await openTestClient({ serverUrl: server.url, token: ana.token, dbName, WebSocket: gate.WebSocket });
    cleanup.push(() => again.close());
    await until((c) => again.uploads.on('change', c), () => !again.uploads.holds(sent.messageId), 'the stale row to be dropped at start');
    expect(await again.store.getUploadBytes(sent.messageId, 0)).toBeNull();
    expect(await again.store.getUploads()).toEqual([]);
  });

  it('uploads the files again when the server dropped them before the message synced (grace period), and the message is delivered with them', async () => {
    const { t: server, roomId, ana, ben } = await startWithRoom({ PARLEY_ATTACHMENT_GRACE_MS: '1000' });
    cleanup.push(() => server.dispose());
    const gate = gatedWebSocket(await freePort());
    const client = await openTestClient({ serverUrl: server.url, token: ana.token, dbName: freshDbName('delivery-grace'), WebSocket: gate.WebSocket });
    cleanup.push(() => client.close());
    const errors: string[] = [];
    client.on('error', (e) => errors.push(e.message));
    const room = await client.openRoom(roomId);
    const files = [
      { name: 'minutes.txt', declaredType: 'text/plain', bytes: bytesOf('1. the budget\n2. the date\n') },
      { name: 'data.bin', declaredType: 'application/octet-stream', bytes: new Uint8Array([0, 1, 2, 3, 255]) },
    ];
    const sent = await client.uploads.send(roomId, { files, content: 'minutes and data' });
    await written(client, room, sent.messageId);
    const first = room.getMessage(sent.messageId)!.attachments.map((a) => a.id);
    expect(state(room, sent.messageId)).toBe('pending');

    // The device stays away past the grace period: the server collects both uploads, which no message names.
    expect(await server.server.attachmentSweeper.sweep(Date.now() + 60_000)).toEqual({ records: 2, blobs: 2 });

    gate.open();
    await client.reconnectNow();
    await until((c) => room.on('states', c), () => state(room, sent.messageId) === 'sent', 'the rewritten message to be acknowledged', 30_000);
    await until((c) => client.uploads.on('change', c), () => !client.uploads.holds(sent.messageId), 'the bytes to be let go');
    expect(errors.some((m) => m.includes('bad_attachment'))).toBe(true);
    expect(room.refusal).toBeNull();
    const mine = room.getMessage(sent.messageId)!;
    expect(mine).toMatchObject({ content: 'minutes and data', message_type: 'file' });
    expect(mine.attachments.map((a) => [a.name, a.size])).toEqual([
      ['minutes.txt', 26],
      ['data.bin', 5],
    ]);
    expect(mine.attachments.map((a) => a.id).filter((id) => first.includes(id))).toEqual([]);
    expect(await client.store.getUploadBytes(sent.messageId, 0)).toBeNull();

    const benClient = await openTestClient({ serverUrl: server.url, token: ben.token, dbName: freshDbName('delivery-grace-ben') });
    cleanup.push(() => benClient.close());
    const benRoom = await benClient.openRoom(roomId);
    await until((c) => benRoom.on('change', c), () => benRoom.getMessage(sent.messageId) !== null, 'Ben to get the message');
    const got = benRoom.getMessage(sent.messageId)!;
    expect(got.attachments.map((a) => a.id)).toEqual(mine.attachments.map((a) => a.id));
    const downloaded = await Promise.all(got.attachments.map(async (a) => new Uint8Array(await (await benClient.downloadAttachment(a)).arrayBuffer())));
    expect(text(downloaded[0]!)).toBe('1. the budget\n2. the date\n');
    expect([...downloaded[1]!]).toEqual([0, 1, 2, 3, 255]);
  });
});
