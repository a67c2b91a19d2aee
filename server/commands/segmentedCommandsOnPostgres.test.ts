import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { CommandAnswerSchemas } from '../../shared/commands/commandAnswers.ts';
import { RoomEventSchemas } from '../../shared/commands/roomEvent.ts';
import type { ChatMessage } from '../../shared/models/chatMessage.ts';
import { segmentDocName } from '../../shared/roomDoc/segments.ts';
import type { RoomRegistry } from '../sync/RoomRegistry.ts';
import { startWithRoom, type TestServer, type TestUser } from '../../test/support/serverHarness.ts';
import { CommandClient, answerOk } from '../../test/support/commandClient.ts';
import { postgresSuiteName, postgresTestsRun, startPostgres, type ThrowawayPostgres } from '../../test/support/postgres.ts';
import { seedSegmentedRoomOnPostgres } from '../../test/support/seededRoomsOnPostgres.ts';

/*
 * The command endpoint on PostgreSQL (an asynchronous store: a document not loaded is a round
 * trip away, docs/scale-out.md), on a room in segments whose older ones are not loaded: two
 * sealed segments of PER messages and an open one. Every command that reaches the oldest segment
 * is sent while it is unloaded (rooms unload 20 ms after their last holder), so each one loads it.
 */
const it = postgresTestsRun() ? test : test.skip;
const PER = 40;
const COUNT = 2 * PER + 15;
const PAGE = 20;

describe(postgresSuiteName('commands on a segmented room on PostgreSQL, older segments not loaded'), () => {
  let postgres: ThrowawayPostgres;
  let t: TestServer;
  let ana: TestUser;
  let ben: TestUser;
  let roomId: string;
  let ids: string[];
  let anaC: CommandClient;
  let benC: CommandClient;
  const registry = (): RoomRegistry => t.server.registry;
  const oldest = (): string => segmentDocName(roomId, 0);

  /** Resolves once `docName` is not loaded (at once if it is not). */
  const unloaded = (docName: string): Promise<void> =>
    new Promise((resolve) => {
      if (!registry().get(docName)) return resolve();
      const off = registry().onUnloaded((name) => {
        if (name !== docName) return;
        off();
        resolve();
      });
    });

  /** A command of Ana's sent while the oldest segment is not loaded; its answer. */
  const onOldest = async (command: string, data: Record<string, unknown>) => {
    await unloaded(oldest());
    expect(registry().get(oldest())).toBeUndefined();
    return anaC.request(command, { room_id: roomId, ...data });
  };
  const messageOf = (answer: Record<string, unknown>): ChatMessage => CommandAnswerSchemas.edit_message.parse(answer).message;

  beforeAll(async () => {
    if (!postgresTestsRun()) return;
    postgres = await startPostgres();
    const databaseUrl = await postgres.createDatabase();
    ({ t, ana, ben, roomId } = await startWithRoom({ PARLEY_DATABASE_URL: databaseUrl, PARLEY_ROOM_IDLE_MS: '20' }));
    await t.stop();
    ids = await seedSegmentedRoomOnPostgres(databaseUrl, roomId, ana.id, COUNT, { perSegment: PER });
    // Started again: nothing of the room is loaded.
    await t.restart();
    [anaC, benC] = await Promise.all([CommandClient.connect(t, ana), CommandClient.connect(t, ben)]);
  }, 120_000);
  afterAll(async () => {
    await Promise.all([anaC?.close(), benC?.close()]);
    await t?.dispose();
    await postgres?.stop();
  }, 60_000);

  it('fetch_history pages back across the unloaded segments to the very first message', async () => {
    // Ben's join holds the head and the open segment (2); its page reaches into segment 1 too,
    // which unloads once read.
    const joined = CommandAnswerSchemas.join_room.parse(answerOk(await benC.request('join_room', { room_id: roomId }), 'join_room'));
    expect(joined.messages.map((m) => m.id)).toEqual(ids.slice(-joined.messages.length));
    expect(joined.messages.length).toBeGreaterThan(COUNT - 2 * PER);
    await unloaded(segmentDocName(roomId, 1));
    expect(registry().get(oldest())).toBeUndefined();
    const seen: string[] = [];
    let before: string | undefined;
    for (;;) {
      const answer = await anaC.request('fetch_history', { room_id: roomId, limit: PAGE, ...(before === undefined ? {} : { before_id: before }) });
      const page = CommandAnswerSchemas.fetch_history.parse(answerOk(answer, 'fetch_history'));
      seen.unshift(...page.messages.map((m) => m.id));
      if (!page.has_more) break;
      before = page.messages[0]?.id;
    }
    expect(seen).toEqual(ids);
  }, 60_000);

  it('edits, reacts to, pins, quotes, reads and deletes messages of the oldest segment while it is unloaded; Ben sees the changes', async () => {
    const [edited, deleted, quoted, read] = [ids[3], ids[4], ids[5], ids[6]] as [string, string, string, string];

    const edit = messageOf(answerOk(await onOldest('edit_message', { message_id: edited, content: 'edited in segment 0' }), 'edit_message'));
    expect(edit).toMatchObject({ id: edited, content: 'edited in segment 0', is_edited: true });
    const editEvent = RoomEventSchemas.message_edited.parse((await benC.event('message_edited', (d) => (d['message'] as { id?: string }).id === edited)).data);
    expect(editEvent.message.content).toBe('edited in segment 0');

    const reacted = messageOf(answerOk(await onOldest('add_reaction', { message_id: edited, reaction: '👍' }), 'add_reaction'));
    expect(reacted.reactions).toEqual({ '👍': [ana.id] });
    await benC.event('reaction_added', (d) => d['message_id'] === edited);

    const pinned = messageOf(answerOk(await onOldest('pin_message', { message_id: edited }), 'pin_message'));
    expect(pinned).toMatchObject({ id: edited, pinned: true, pinned_by: ana.id });
    await benC.event('message_pinned', (d) => d['message_id'] === edited);

    // A new message (in the open segment) quoting one of the oldest: the quote is checked and read there.
    const quoting = messageOf(answerOk(await onOldest('send_message', { content: 'about that', quoted_message_id: quoted }), 'send_message'));
    expect(quoting.quoted_message).toMatchObject({ id: quoted, content: `history ${quoted}` });

    expect(answerOk(await onOldest('read_messages', { last_read_id: read }), 'read_messages')).toMatchObject({ last_read_id: read });
    const thread = CommandAnswerSchemas.fetch_history.parse(answerOk(await onOldest('fetch_history', { parent_id: edited }), 'fetch_history'));
    expect(thread.messages).toEqual([]);

    const removed = messageOf(answerOk(await onOldest('delete_message', { message_id: deleted }), 'delete_message'));
    expect(removed).toMatchObject({ id: deleted, is_deleted: true });
    await benC.event('message_deleted', (d) => d['message_id'] === deleted);

    const list = CommandAnswerSchemas.fetch_pinned.parse(answerOk(await onOldest('fetch_pinned', {}), 'fetch_pinned'));
    expect(list.messages.map((m) => m.id)).toEqual([edited]);

    // Ben reads them back from the oldest segment, unloaded again.
    await unloaded(oldest());
    const page = CommandAnswerSchemas.fetch_history.parse(answerOk(await benC.request('fetch_history', { room_id: roomId, before_id: ids[10], limit: 10 }), 'fetch_history'));
    expect(page.messages.map((m) => m.id)).toEqual(ids.slice(0, 10));
    expect(page.messages[3]).toMatchObject({ content: 'edited in segment 0', is_edited: true, reactions: { '👍': [ana.id] }, pinned: true });
    expect(page.messages[4]).toMatchObject({ is_deleted: true, content: '' });
  }, 60_000);
});
