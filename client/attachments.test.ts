import { afterAll, describe, expect, it } from 'vitest';
import type { ChatClient } from './ChatClient.ts';
import { freshDbName, openTestClient, stoppedServerWithRoom, until } from '../test/support/clientHarness.ts';
import { startWithRoom } from '../test/support/serverHarness.ts';

/*
 * Messages with files through the SDK (docs/client.md, "Attachments"), against a real server:
 * files wait on the device while the server is away, across a restart of the app, then go before
 * their message; a refused upload waits for Retry or Discard; a room not open gets its message too.
 */

const cleanup: Array<() => Promise<void>> = [];
afterAll(async () => {
  for (const fn of cleanup.reverse()) await fn();
});

const bytesOf = (text: string): Uint8Array => new TextEncoder().encode(text);
const noneWaiting = (client: ChatClient, roomId: string) => () => client.uploads.pending(roomId).length === 0;

describe('attachments in the SDK', () => {
  it('keeps a message with a file on the device while the server is down and across an app restart; once it is up the file goes first, then the message, and Bob downloads the same bytes', async () => {
    const { server: first, serverUrl, ana, bob, roomId, restart } = await stoppedServerWithRoom();
    cleanup.push(() => first.dispose());
    const dbName = freshDbName('attach-offline');
    const offline = await openTestClient({ serverUrl, token: ana.token, dbName });
    const text = 'Agenda\n1. budget\n2. <script>alert(1)</script>\n';
    const pending = await offline.uploads.send(roomId, { files: [{ name: 'agenda.txt', declaredType: 'text/plain', bytes: bytesOf(text) }], content: 'the agenda' });
    expect(pending).toMatchObject({ roomId, type: 'file', content: 'the agenda', total: bytesOf(text).byteLength, failure: null });
    expect(offline.uploads.pending(roomId).map((p) => p.messageId)).toEqual([pending.messageId]);
    await offline.close();

    // The app starts again, still offline: the message and its file are still waiting.
    const app = await openTestClient({ serverUrl, token: ana.token, dbName });
    cleanup.push(() => app.close());
    expect(app.uploads.pending(roomId)).toMatchObject([{ messageId: pending.messageId, state: expect.stringMatching(/waiting|uploading/), files: [{ name: 'agenda.txt', uploaded: false }] }]);
    const room = await app.openRoom(roomId);
    expect(room.getMessage(pending.messageId)).toBeNull();

    const second = await restart();
    cleanup.push(() => second.dispose());
    await until((c) => app.uploads.on('change', c), noneWaiting(app, roomId), 'the upload to finish', 30_000);
    await until((c) => room.on('states', c), () => room.messageState(pending.messageId)?.state === 'sent', 'the message to be sent');
    const mine = room.getMessage(pending.messageId);
    expect(mine).toMatchObject({ message_type: 'file', content: 'the agenda', attachments: [{ name: 'agenda.txt', mime_type: 'text/plain', size: bytesOf(text).byteLength, width: null, thumbnail_url: null }] });

    const bobClient = await openTestClient({ serverUrl, token: bob.token, dbName: freshDbName('attach-bob') });
    cleanup.push(() => bobClient.close());
    const bobRoom = await bobClient.openRoom(roomId);
    await until((c) => bobRoom.on('change', c), () => bobRoom.getMessage(pending.messageId) !== null, 'Bob to get the message');
    const attachment = bobRoom.getMessage(pending.messageId)!.attachments[0]!;
    expect(attachment.url).toBe(`/api/rooms/${roomId}/attachments/${attachment.id}`);
    const blob = await bobClient.downloadAttachment(attachment);
    expect(new TextDecoder().decode(new Uint8Array(await blob.arrayBuffer()))).toBe(text);
  });

  it('sends a message with files to a room the app has not open: it is written and reaches the others', async () => {
    const { t: server, roomId, ana, ben: bob } = await startWithRoom();
    cleanup.push(() => server.dispose());
    const anaClient = await openTestClient({ serverUrl: server.url, token: ana.token, dbName: freshDbName('attach-closed') });
    cleanup.push(() => anaClient.close());
    const sent = await anaClient.uploads.send(roomId, { files: [{ name: 'a.bin', declaredType: 'application/octet-stream', bytes: new Uint8Array([1, 2, 3]) }, { name: 'b.bin', declaredType: '', bytes: new Uint8Array([4]) }] });
    await until((c) => anaClient.uploads.on('change', c), noneWaiting(anaClient, roomId), 'the upload to finish', 30_000);

    const bobClient = await openTestClient({ serverUrl: server.url, token: bob.token, dbName: freshDbName('attach-closed-bob') });
    cleanup.push(() => bobClient.close());
    const bobRoom = await bobClient.openRoom(roomId);
    await until((c) => bobRoom.on('change', c), () => bobRoom.getMessage(sent.messageId) !== null, 'Bob to get the message');
    expect(bobRoom.getMessage(sent.messageId)?.attachments.map((a) => [a.name, a.size])).toEqual([
      ['a.bin', 3],
      ['b.bin', 1],
    ]);
  });

  it('a refused upload (413) waits with its reason, does not hold the next message, fails again on Retry and goes on Discard', async () => {
    const { t: server, roomId, ana } = await startWithRoom({ PARLEY_ATTACHMENT_MAX_BYTES: '16' });
    cleanup.push(() => server.dispose());
    const client = await openTestClient({ serverUrl: server.url, token: ana.token, dbName: freshDbName('attach-413') });
    cleanup.push(() => client.close());
    const big = await client.uploads.send(roomId, { files: [{ name: 'big.bin', declaredType: 'application/octet-stream', bytes: new Uint8Array(17) }] });
    const small = await client.uploads.send(roomId, { files: [{ name: 'small.bin', declaredType: 'application/octet-stream', bytes: new Uint8Array(16) }] });
    const failed = () => client.uploads.pending(roomId).find((p) => p.messageId === big.messageId);
    await until((c) => client.uploads.on('change', c), () => failed()?.state === 'failed' && client.uploads.pending(roomId).length === 1, 'the big file to fail and the small one to go');
    expect(failed()).toMatchObject({ state: 'failed', retrying: false, failure: { code: 'payload_too_large' } });
    const room = await client.openRoom(roomId);
    expect(room.getMessage(small.messageId)?.attachments.map((a) => a.name)).toEqual(['small.bin']);
    expect(room.getMessage(big.messageId)).toBeNull();

    await client.uploads.retry(big.messageId);
    await until((c) => client.uploads.on('change', c), () => failed()?.state === 'failed', 'the retry to fail again');
    await client.uploads.discard(big.messageId);
    expect(client.uploads.pending(roomId)).toEqual([]);
    expect(await client.store.getUploadBytes(big.messageId, 0)).toBeNull();
  });
});
