import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ClientError } from './errors/ClientError.ts';
import { describeRefusal } from './errors/describeRefusal.ts';
import { startTestServer, type TestServer } from '../test/support/serverHarness.ts';
import { freshDbName, openTestClient, until, untilOnline } from '../test/support/clientHarness.ts';

let t: TestServer;
beforeAll(async () => {
  t = await startTestServer({ PARLEY_MAX_DOC_BYTES: '8192' });
});
afterAll(async () => {
  await t.dispose();
});

describe('a full room, as the SDK lives it', () => {
  it('keeps reading while it holds the refused message, says what to do, and sends it once an owner made room', async () => {
    const ana = await t.login('Ana');
    const ben = await t.login('Ben');
    const roomId = await t.createRoom(ana, [ben]);
    const owner = await openTestClient({ serverUrl: t.url, token: ana.token, dbName: freshDbName('full-owner') });
    const ownerRoom = await owner.openRoom(roomId);
    await untilOnline(ownerRoom);
    const filler: Array<{ id: string }> = [];
    for (let i = 0; i < 20; i++) filler.push(await ownerRoom.send({ content: `${i} ${'x'.repeat(200)}` }));
    await Promise.all(filler.map((m) => ownerRoom.whenSent(m.id)));

    const client = await openTestClient({ serverUrl: t.url, token: ben.token, dbName: freshDbName('full-member') });
    const errors: ClientError[] = [];
    client.on('error', (e) => errors.push(e));
    const room = await client.openRoom(roomId);
    await untilOnline(room);
    const big = await room.send({ content: `from ben ${'y'.repeat(600)}` });
    await expect(room.whenSent(big.id)).rejects.toMatchObject({ code: 'update_refused' });
    expect(room.refusal).toMatchObject({ code: 'document_too_large' });
    expect(room.messageState(big.id)).toMatchObject({ state: 'rejected', code: 'document_too_large' });
    expect(describeRefusal(room.refusal ?? { code: '', reason: '' })).toMatch(/^This room is full\. An owner or admin can delete old messages/);

    // Not stopped, not "offline": the room reconnects and reads on, holding Ben's message.
    await untilOnline(room);
    expect(client.connectionState).toBe('online');
    const later = await room.send({ content: 'also held' });
    expect(room.messageState(later.id)).toMatchObject({ state: 'rejected', code: 'document_too_large' });
    for (const message of filler.slice(0, 14)) await ownerRoom.delete(message.id);
    await until((check) => room.on('change', check), () => room.getMessage(filler[0]!.id)?.is_deleted === true, 'the owner’s deletions to reach the held room');

    // The deletions in a full room are compacted at once; then Retry sends what was held.
    const stored = t.server.registry.get(roomId);
    await until((check) => t.server.compactor.onCompacted(check), () => (stored?.storedBytes ?? Infinity) + 900 <= 8192, 'the room to be re-measured after compaction');
    room.resend();
    await room.whenSent(big.id);
    await room.whenSent(later.id);
    expect(room.refusal).toBeNull();
    await until((check) => ownerRoom.on('change', check), () => ownerRoom.getMessage(later.id) !== null, 'the owner to receive the held messages');
    expect(errors.map((e) => e.code)).toContain('update_refused');
    await client.close();
    await owner.close();
  });
});
