import { afterEach, expect, it } from 'vitest';
import type * as Y from 'yjs';
import type { WebsocketProvider } from 'y-websocket';
import { connectProvider, openProvider, startWithRoom, synced, untilDoc, type TwoMemberRoom } from '../../test/support/serverHarness.ts';
import { FlakyProxy } from '../../test/support/flakyProxy.ts';
import { seedSingleDocumentRoom } from '../../test/support/seededRooms.ts';
import { CONVERTING_KEY, SEGMENT_MAX_MESSAGES, SegmentIndex, segmentDocName, segmentsMap } from '../../shared/roomDoc/segments.ts';
import { roomMaps } from '../../shared/roomDoc/layout.ts';
import { createMessage } from '../../shared/roomDoc/messageOps.ts';
import { getMessage } from '../../shared/roomDoc/queries.ts';
import { CommandClient } from '../../test/support/commandClient.ts';

/*
 * A room converts into segments in paced steps (Segmenter, CONVERSION_PAUSE_FACTOR), so for a
 * second or more its head is half moved. A stock y-websocket client on a link that cuts keeps
 * writing into that head, and a bot on the command endpoint sends and edits meanwhile: every
 * message written, before and after the cut, ends up in exactly one segment, the edit in the
 * segment that holds its message, and the head holds none.
 */

let room: TwoMemberRoom | null = null;
let proxy: FlakyProxy | null = null;
const providers: WebsocketProvider[] = [];
afterEach(async () => {
  for (const p of providers.splice(0)) p.destroy();
  await proxy?.close();
  proxy = null;
  await room?.t.dispose();
  room = null;
});

it('keeps every message a stock client on a cut link and a bot write while a head converts: once each, in a segment, with the edit', async () => {
  // A stock provider counts a document synced at its step 2, so every segment here is answered in
  // that one frame (the open one holds ~500 messages, over the 64 KiB default of pieces).
  room = await startWithRoom({ PARLEY_SLICED_LOAD_BYTES: String(1024 * 1024) });
  const r = room;
  await r.t.stop();
  const seeded = 2 * SEGMENT_MAX_MESSAGES + 500;
  const seededIds = seedSingleDocumentRoom(r.t, r.roomId, r.ana.id, seeded);
  await r.t.restart();
  proxy = await FlakyProxy.start({ host: '127.0.0.1', port: Number(new URL(r.t.url).port) });
  const provider = openProvider(`ws://127.0.0.1:${proxy.port}/sync`, r.roomId, r.ana.token);
  providers.push(provider);
  const head = provider.doc;
  // The stock client's load of the room starts its conversion; the head says so once under way.
  await untilDoc(head, (doc) => segmentsMap(doc).get(CONVERTING_KEY) === true);

  const written: string[] = [];
  const write = (doc: Y.Doc, content: string): void => {
    const result = createMessage(doc, { userId: r.ana.id, role: 'owner' }, { content });
    if (!result.ok) throw new Error(result.message);
    written.push(result.id);
  };
  for (let i = 0; i < 10; i++) write(head, `while converting ${i}`);
  // A bot, meanwhile: a message of its own, and an edit of the oldest message (moved first).
  const bot = await CommandClient.connect(r.t, r.ana);
  const sent = await bot.request('send_message', { room_id: r.roomId, content: 'from the bot while converting' });
  expect(sent.success, JSON.stringify(sent)).toBe(true);
  written.push((sent.data as { message: { id: string } }).message.id);
  const oldest = seededIds[0] ?? '';
  const edited = await bot.request('edit_message', { room_id: r.roomId, message_id: oldest, content: 'edited while converting' });
  expect(edited.success, JSON.stringify(edited)).toBe(true);
  // History pages reach the messages already moved out of the head.
  const oldestPage = await bot.request('fetch_history', { room_id: r.roomId, limit: 100, before_id: seededIds[50] });
  expect(oldestPage.success, JSON.stringify(oldestPage)).toBe(true);
  expect((oldestPage.data as { messages: Array<{ id: string }> }).messages.map((m) => m.id)).toEqual(seededIds.slice(0, 50));
  const convertingWhenWritten = !SegmentIndex.of(head).segmented;
  proxy.cut();
  for (let i = 0; i < 10; i++) write(head, `offline while converting ${i}`);
  // The provider reconnects on its own and sends what the server lacks.
  await synced(provider);
  await untilDoc(head, (doc) => SegmentIndex.of(doc).segmented && roomMaps(doc).messages.size === 0);
  expect(convertingWhenWritten).toBe(true);

  const seen = new Map<string, number>();
  let total = 0;
  for (const n of SegmentIndex.of(head).newestFirst()) {
    const segment = connectProvider(r.t, segmentDocName(r.roomId, n), r.ana);
    providers.push(segment);
    const entry = SegmentIndex.of(head).sealedAt(n);
    await synced(segment);
    // A stock provider is "synced" at the first piece of a big segment's answer: wait for all of it.
    await untilDoc(segment.doc, (doc) => roomMaps(doc).messages.size >= (entry?.count ?? 0));
    for (const id of roomMaps(segment.doc).messages.keys()) seen.set(id, (seen.get(id) ?? 0) + 1);
    if (n === 0) expect(getMessage(segment.doc, oldest)?.content).toBe('edited while converting');
    total += roomMaps(segment.doc).messages.size;
    segment.destroy();
  }
  expect(written.filter((id) => seen.get(id) !== 1)).toEqual([]);
  expect(total).toBe(seeded + written.length);
  await bot.close();
}, 120_000);
