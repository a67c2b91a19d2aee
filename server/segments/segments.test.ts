import { afterEach, describe, expect, it } from 'vitest';
import * as Y from 'yjs';
import type { WebsocketProvider } from 'y-websocket';
import { closedByServer, connectProvider, startWithRoom, synced, untilDoc, type TestUser, type TwoMemberRoom } from '../../test/support/serverHarness.ts';
import { seedSegmentedRoom, seedSingleDocumentRoom } from '../../test/support/seededRooms.ts';
import { CommandClient } from '../../test/support/commandClient.ts';
import { SEGMENT_MAX_MESSAGES, SegmentIndex, segmentDocName } from '../../shared/roomDoc/segments.ts';
import { getMessage, listMessages, messageCount } from '../../shared/roomDoc/queries.ts';
import { roomMaps } from '../../shared/roomDoc/layout.ts';
import { createMessage } from '../../shared/roomDoc/messageOps.ts';
import type { Actor } from '../../shared/roomDoc/actor.ts';
import { CloseCode } from '../../shared/protocol/closeCodes.ts';

/** Messages per segment. */
const M = SEGMENT_MAX_MESSAGES;

const providers: WebsocketProvider[] = [];
let room: TwoMemberRoom | null = null;

afterEach(async () => {
  for (const p of providers.splice(0)) p.destroy();
  await room?.t.dispose();
  room = null;
});

/**
 * These tests read documents with stock providers, which count a document synced at its step 2: a
 * document stored under PARLEY_SLICED_LOAD_BYTES is answered in that one frame. Converted heads
 * (~270 KB) and segments (~650 KB) here stay under 1 MiB (the default is 64 KiB).
 */
const ONE_FRAME_REPLIES = { PARLEY_SLICED_LOAD_BYTES: String(1024 * 1024) };

function open(r: TwoMemberRoom, docName: string, user = r.ana): WebsocketProvider {
  const provider = connectProvider(r.t, docName, user);
  providers.push(provider);
  return provider;
}

/** Syncs the head over a stock provider until the server has converted the room (the head names an open segment). */
async function convertedHead(r: TwoMemberRoom): Promise<Y.Doc> {
  const head = open(r, r.roomId);
  await untilDoc(head.doc, (doc) => SegmentIndex.of(doc).segmented);
  return head.doc;
}

/**
 * Every segment the head names, each synced over a stock provider that is closed once synced (a
 * stock client has a socket per document, and a user at most PARLEY_MAX_CONNECTIONS_PER_USER).
 */
async function segmentDocs(r: TwoMemberRoom, head: Y.Doc): Promise<Map<number, Y.Doc>> {
  const docs = new Map<number, Y.Doc>();
  for (const n of SegmentIndex.of(head).newestFirst().reverse()) {
    const provider = connectProvider(r.t, segmentDocName(r.roomId, n), r.ana);
    await synced(provider);
    provider.destroy();
    docs.set(n, provider.doc);
  }
  return docs;
}

/** Ana owns the test room, Ben is a member. */
const actorOf = (r: TwoMemberRoom, user: TestUser): Actor => ({ userId: user.id, role: user === r.ana ? 'owner' : 'member' });

/** A message written straight into a document (as a stock client does): its id. */
function write(r: TwoMemberRoom, doc: Y.Doc, user: TestUser, content: string, id?: string): string {
  const result = createMessage(doc, actorOf(r, user), { content, ...(id === undefined ? {} : { id }) });
  if (!result.ok) throw new Error(`createMessage failed: ${result.code}: ${result.message}`);
  return result.id;
}

function at<T>(list: readonly T[], i: number): T {
  const item = list[i];
  if (item === undefined) throw new Error(`no item ${i} of ${list.length}`);
  return item;
}

/**
 * An unused message id right after `id` in display order: same time and counter, the largest
 * random bits. It sorts after `id` and before any id minted after it on the same device.
 */
const idRightAfter = (id: string): string => `${id.slice(0, 19)}bfff-ffffffffffff`;

/** The message keys a document holds (whatever the index makes of them). */
const keysOf = (doc: Y.Doc): string[] => [...roomMaps(doc).messages.keys()];

describe('a room in segments', () => {
  it('migrates a 50,000-message single-document room on load without loss, and it stays migrated after a restart', async () => {
    room = await startWithRoom(ONE_FRAME_REPLIES);
    const r = room;
    await r.t.stop();
    const ids = seedSingleDocumentRoom(r.t, r.roomId, r.ana.id, 50_000);
    await r.t.restart();

    const head = await convertedHead(r);
    const index = SegmentIndex.of(head);
    expect(index.sealed).toHaveLength(50_000 / M);
    expect(index.open?.n).toBe(50_000 / M);
    expect(roomMaps(head).messages.size).toBe(0);

    const docs = await segmentDocs(r, head);
    const seen: string[] = [];
    for (const [n, doc] of docs) {
      const page = listMessages(doc, { limit: SEGMENT_MAX_MESSAGES + 1 });
      expect(page.messages.length).toBeLessThanOrEqual(SEGMENT_MAX_MESSAGES);
      for (const m of page.messages) expect(index.homeOf(m.id)).toBe(n);
      seen.push(...page.messages.map((m) => m.id));
    }
    expect(seen).toEqual(ids);

    // After a restart the server reads the same segments and converts nothing again.
    for (const p of providers.splice(0)) p.destroy();
    await r.t.restart();
    const client = await CommandClient.connect(r.t, r.ben);
    const page = async (before?: string): Promise<{ ids: string[]; hasMore: boolean }> => {
      const answer = await client.request('fetch_history', { room_id: r.roomId, limit: 100, ...(before ? { before_id: before } : {}) });
      expect(answer.success).toBe(true);
      const data = answer.data as { messages: Array<{ id: string }>; has_more: boolean };
      return { ids: data.messages.map((m) => m.id), hasMore: data.has_more };
    };
    // The newest page, a page across the boundary of segments 0 and 1, and the oldest page.
    expect(await page()).toEqual({ ids: ids.slice(-100), hasMore: true });
    expect(await page(ids[SEGMENT_MAX_MESSAGES + 50])).toEqual({ ids: ids.slice(SEGMENT_MAX_MESSAGES - 50, SEGMENT_MAX_MESSAGES + 50), hasMore: true });
    expect(await page(ids[100])).toEqual({ ids: ids.slice(0, 100), hasMore: false });
    const again = await convertedHead(r);
    expect(SegmentIndex.of(again).newestFirst()).toEqual(index.newestFirst());
    await client.close();
    // Conversion pauses after each of its 500 steps (Segmenter, CONVERSION_PAUSE_FACTOR): 20 to 30 s here.
  }, 120_000);

  it('edits and reacts to the first message of a converted room of two and a half segments by command; a stock client on segment 0 sees both; history pages across segments', async () => {
    room = await startWithRoom(ONE_FRAME_REPLIES);
    const r = room;
    await r.t.stop();
    const ids = seedSingleDocumentRoom(r.t, r.roomId, r.ana.id, 2 * M + M / 2);
    await r.t.restart();
    const head = await convertedHead(r);
    const index = SegmentIndex.of(head);
    expect(index.sealed.map((s) => [s.n, s.first, s.last, s.count])).toEqual([
      [0, ids[0], ids[M - 1], M],
      [1, ids[M], ids[2 * M - 1], M],
    ]);
    expect(index.open?.n).toBe(2);

    const first = at(ids, 0);
    const benOnFirst = open(r, segmentDocName(r.roomId, 0), r.ben);
    const benOnSecond = open(r, segmentDocName(r.roomId, 1), r.ben);
    await Promise.all([synced(benOnFirst), synced(benOnSecond)]);
    expect(getMessage(benOnFirst.doc, first)?.content).toBe('history 0');

    const ana = await CommandClient.connect(r.t, r.ana);
    const edited = await ana.request('edit_message', { room_id: r.roomId, message_id: first, content: 'the very first, edited' });
    expect(edited.success, JSON.stringify(edited)).toBe(true);
    expect(edited.data).toMatchObject({ message: { id: first, content: 'the very first, edited' } });
    const reacted = await ana.request('add_reaction', { room_id: r.roomId, message_id: first, reaction: '👍' });
    expect(reacted.success, JSON.stringify(reacted)).toBe(true);
    expect(reacted.data).toMatchObject({ message: { id: first, reactions: { '👍': [r.ana.id] } } });
    await untilDoc(benOnFirst.doc, (doc) => {
      const m = getMessage(doc, first);
      return m?.content === 'the very first, edited' && m.editedAt !== null && (m.reactions['👍'] ?? []).includes(r.ana.id);
    });

    // A late message whose id falls between segment 0's last and segment 1's first (sent by a
    // device that was offline since before the seal): the command writes it to the open segment,
    // the server re-homes it to segment 1, whose range it is in, below that segment's `first`.
    const late = idRightAfter(at(ids, M - 1));
    expect(late > at(ids, M - 1) && late < at(ids, M)).toBe(true);
    expect(index.homeOf(late)).toBe(1);
    const sentLate = await ana.request('send_message', { room_id: r.roomId, content: 'late', message_id: late });
    expect(sentLate.success, JSON.stringify(sentLate)).toBe(true);
    await untilDoc(benOnSecond.doc, (doc) => getMessage(doc, late)?.content === 'late');

    const page = async (before: string): Promise<{ ids: string[]; hasMore: boolean; first?: unknown }> => {
      const answer = await ana.request('fetch_history', { room_id: r.roomId, limit: 100, before_id: before });
      expect(answer.success, JSON.stringify(answer)).toBe(true);
      const data = answer.data as { messages: Array<{ id: string }>; has_more: boolean };
      return { ids: data.messages.map((m) => m.id), hasMore: data.has_more };
    };
    // Across the 0/1 boundary, with the late message in its place; right before segment 1's first.
    expect(await page(at(ids, M + 50))).toEqual({ ids: [...ids.slice(M - 49, M), late, ...ids.slice(M, M + 50)], hasMore: true });
    expect(await page(at(ids, M))).toEqual({ ids: [...ids.slice(M - 99, M), late], hasMore: true });
    expect(await page(late)).toEqual({ ids: ids.slice(M - 100, M), hasMore: true });
    // Across the 1/2 boundary, and the oldest page with the edit and the reaction.
    expect(await page(at(ids, 2 * M + 30))).toEqual({ ids: ids.slice(2 * M - 70, 2 * M + 30), hasMore: true });
    const oldest = await ana.request('fetch_history', { room_id: r.roomId, limit: 100, before_id: at(ids, 100) });
    const oldestData = oldest.data as { messages: Array<{ id: string; content: string; reactions: Record<string, string[]> }>; has_more: boolean };
    expect(oldestData.messages.map((m) => m.id)).toEqual(ids.slice(0, 100));
    expect(oldestData.has_more).toBe(false);
    expect(oldestData.messages[0]).toMatchObject({ content: 'the very first, edited', reactions: { '👍': [r.ana.id] } });
    await ana.close();
  }, 30_000);

  it('re-homes what two offline devices wrote into a segment that was sealed meanwhile: into the next one, once, in range', async () => {
    room = await startWithRoom(ONE_FRAME_REPLIES);
    const r = room;
    await r.t.stop();
    // Converted into a sealed segment 0 and an open segment 1 holding 4,990.
    const seeded = seedSingleDocumentRoom(r.t, r.roomId, r.ana.id, 2 * SEGMENT_MAX_MESSAGES - 10);
    await r.t.restart();
    const head = await convertedHead(r);
    expect(SegmentIndex.of(head).open?.n).toBe(1);

    const one = segmentDocName(r.roomId, 1);
    const anaDevice = open(r, one, r.ana);
    const benDevice = open(r, one, r.ben);
    await Promise.all([synced(anaDevice), synced(benDevice)]);
    expect(messageCount(anaDevice.doc)).toBe(SEGMENT_MAX_MESSAGES - 10);
    expect(messageCount(benDevice.doc)).toBe(SEGMENT_MAX_MESSAGES - 10);
    anaDevice.disconnect();
    benDevice.disconnect();

    // A third device fills segment 1 past 5,000 in one update: the server seals it and opens 2.
    const filler = open(r, one, r.ana);
    await synced(filler);
    const fillerIds: string[] = [];
    filler.doc.transact(() => {
      for (let i = 0; i < 20; i++) fillerIds.push(write(r, filler.doc, r.ana, `filler ${i}`));
    });
    await untilDoc(head, (doc) => SegmentIndex.of(doc).open?.n === 2);
    const sealedOne = SegmentIndex.of(head).sealed[1];
    expect(sealedOne).toMatchObject({ n: 1, sealed: true, first: seeded[SEGMENT_MAX_MESSAGES], last: fillerIds.at(-1), count: SEGMENT_MAX_MESSAGES + 10 });

    // Offline, each device writes a message into its copy of segment 1, then comes back.
    const fromAna = write(r, anaDevice.doc, r.ana, 'written offline by Ana');
    const fromBen = write(r, benDevice.doc, r.ben, 'written offline by Ben');
    expect(SegmentIndex.of(head).homeOf(fromAna)).toBe(2);
    expect(SegmentIndex.of(head).homeOf(fromBen)).toBe(2);
    const two = open(r, segmentDocName(r.roomId, 2), r.ben);
    await synced(two);
    anaDevice.connect();
    benDevice.connect();

    await untilDoc(two.doc, (doc) => getMessage(doc, fromAna)?.content === 'written offline by Ana' && getMessage(doc, fromBen)?.content === 'written offline by Ben');
    // The devices' copies of segment 1 lose them (the server's move reaches them too).
    const goneFrom = (doc: Y.Doc): boolean => !roomMaps(doc).messages.has(fromAna) && !roomMaps(doc).messages.has(fromBen);
    await Promise.all([anaDevice, benDevice].map(async (device) => {
      await synced(device);
      await untilDoc(device.doc, goneFrom);
    }));

    // As the server holds them now: every message once, each in the segment its id belongs to.
    const docs = await segmentDocs(r, head);
    expect([...docs.keys()]).toEqual([0, 1, 2]);
    const index = SegmentIndex.of(head);
    const everywhere: string[] = [];
    const misplaced: Array<[string, number, number | null]> = [];
    for (const [n, doc] of docs) {
      for (const id of keysOf(doc)) {
        everywhere.push(id);
        if (index.homeOf(id) !== n) misplaced.push([id, n, index.homeOf(id)]);
      }
    }
    expect(misplaced).toEqual([]);
    expect(everywhere.filter((id) => id === fromAna)).toHaveLength(1);
    expect(everywhere.filter((id) => id === fromBen)).toHaveLength(1);
    expect(new Set(everywhere).size).toBe(everywhere.length);
    expect(everywhere.length).toBe(seeded.length + fillerIds.length + 2);
    expect(keysOf(docs.get(2) ?? new Y.Doc()).sort()).toEqual([fromAna, fromBen].sort());
    expect(keysOf(head)).toEqual([]);
  }, 30_000);

  it('re-homes a message a stock client writes to the head of a segmented room: the head ends empty, the segment has it', async () => {
    room = await startWithRoom(ONE_FRAME_REPLIES);
    const r = room;
    await r.t.stop();
    const ids = seedSegmentedRoom(r.t, r.roomId, r.ana.id, SEGMENT_MAX_MESSAGES);
    await r.t.restart();
    const headProvider = open(r, r.roomId, r.ana);
    await synced(headProvider);
    const head = headProvider.doc;
    expect(SegmentIndex.of(head).open?.n).toBe(1);
    const zero = open(r, segmentDocName(r.roomId, 0), r.ben);
    const one = open(r, segmentDocName(r.roomId, 1), r.ben);
    await Promise.all([synced(zero), synced(one)]);

    // A new message, and a late one whose id is in sealed segment 0's range.
    const fresh = write(r, head, r.ana, 'written to the head');
    const late = write(r, head, r.ana, 'late, written to the head', idRightAfter(at(ids, 10)));
    await untilDoc(one.doc, (doc) => getMessage(doc, fresh)?.content === 'written to the head');
    await untilDoc(zero.doc, (doc) => getMessage(doc, late)?.content === 'late, written to the head');
    await untilDoc(head, (doc) => keysOf(doc).length === 0);
    expect(keysOf(one.doc)).toEqual([fresh]);
    // A stock provider is "synced" at the first piece of a big segment's answer: the rest follows.
    await untilDoc(zero.doc, (doc) => messageCount(doc) === SEGMENT_MAX_MESSAGES + 1);
  }, 30_000);

  it("closes a removed member's connection to a segment with Forbidden, and refuses a new one", async () => {
    room = await startWithRoom(ONE_FRAME_REPLIES);
    const r = room;
    await r.t.stop();
    seedSegmentedRoom(r.t, r.roomId, r.ana.id, 10);
    await r.t.restart();
    const segment = segmentDocName(r.roomId, 0);
    const benOnSegment = open(r, segment, r.ben);
    await synced(benOnSegment);
    expect(messageCount(benOnSegment.doc)).toBe(10);

    const closed = closedByServer(benOnSegment);
    const removal = await r.t.api(r.ana, 'DELETE', `/api/rooms/${r.roomId}/members/${r.ben.id}`);
    expect(removal.status).toBe(204);
    expect((await closed).code).toBe(CloseCode.Forbidden);

    const again = open(r, segment, r.ben);
    expect((await closedByServer(again)).code).toBe(CloseCode.Forbidden);
  }, 30_000);
});
