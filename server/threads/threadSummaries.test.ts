import { afterEach, describe, expect, it } from 'vitest';
import * as Y from 'yjs';
import type { WebsocketProvider } from 'y-websocket';
import { acknowledged, connectProvider, startWithRoom, synced, untilDoc, type TestUser, type TwoMemberRoom } from '../../test/support/serverHarness.ts';
import { seedSegmentedRoom, seedSingleDocumentRoom } from '../../test/support/seededRooms.ts';
import { CommandClient } from '../../test/support/commandClient.ts';
import { openDatabase } from '../storage/openDatabase.ts';
import { SqliteUpdateStore } from '../storage/SqliteUpdateStore.ts';
import { SEGMENT_MAX_MESSAGES, SegmentIndex, segmentDocName } from '../../shared/roomDoc/segments.ts';
import { type ThreadSummary, headMaps } from '../../shared/roomDoc/headMaps.ts';
import { threadSummaryIn } from '../../shared/roomDoc/queries.ts';
import { createMessage, deleteMessage } from '../../shared/roomDoc/messageOps.ts';
import type { Actor } from '../../shared/roomDoc/actor.ts';
import { uuidv7 } from '../../shared/ids.ts';

/*
 * The server derives the heads' `threads` maps (ThreadSummaries): from replies written by two
 * clients over real sockets, after a deletion, across segments, through a re-homed late reply and
 * through the conversion of a room into segments, and rebuilt on load for a room without them.
 */
const M = SEGMENT_MAX_MESSAGES;
const ONE_FRAME_REPLIES = { PARLEY_SLICED_LOAD_BYTES: String(1024 * 1024) };

const providers: WebsocketProvider[] = [];
let room: TwoMemberRoom | null = null;

afterEach(async () => {
  for (const p of providers.splice(0)) p.destroy();
  await room?.t.dispose();
  room = null;
});

function open(r: TwoMemberRoom, docName: string, user: TestUser): WebsocketProvider {
  const provider = connectProvider(r.t, docName, user, new Y.Doc(), { parley: true });
  providers.push(provider);
  return provider;
}

const actorOf = (r: TwoMemberRoom, user: TestUser): Actor => ({ userId: user.id, role: user === r.ana ? 'owner' : 'member' });

function write(r: TwoMemberRoom, doc: Y.Doc, user: TestUser, content: string, extra: { parentId?: string; id?: string } = {}): string {
  const result = createMessage(doc, actorOf(r, user), { content, ...extra });
  if (!result.ok) throw new Error(`createMessage failed: ${result.code}: ${result.message}`);
  return result.id;
}

/** Resolves once the head's summary of `rootId` matches; records every replyCount the head showed on the way. */
function summaryIs(head: Y.Doc, rootId: string, want: Partial<ThreadSummary>, seen: number[] = []): Promise<void> {
  const matches = (doc: Y.Doc): boolean => {
    const summary = threadSummaryIn(doc, rootId);
    if (summary) seen.push(summary.replyCount);
    return summary !== null && Object.entries(want).every(([k, v]) => JSON.stringify(summary[k as keyof ThreadSummary]) === JSON.stringify(v));
  };
  return untilDoc(head, matches);
}

describe('thread summaries, derived by the server', () => {
  it('counts replies from two clients, takes a deleted one out, and is stored with them (a restart keeps it)', async () => {
    room = await startWithRoom();
    const r = room;
    const anaP = open(r, r.roomId, r.ana);
    const benP = open(r, r.roomId, r.ben);
    await Promise.all([synced(anaP), synced(benP)]);
    const root = write(r, anaP.doc, r.ana, 'root');
    await untilDoc(benP.doc, (doc) => doc.getMap('messages').has(root));
    const first = write(r, benP.doc, r.ben, 'first', { parentId: root });
    await acknowledged(benP);
    const second = write(r, anaP.doc, r.ana, 'second', { parentId: root });
    await summaryIs(benP.doc, root, { replyCount: 2, participants: [r.ana.id, r.ben.id], segments: [] });
    expect(threadSummaryIn(benP.doc, root)?.lastReplyAt).toBe(Number.parseInt(second.slice(0, 8) + second.slice(9, 13), 16));
    expect(deleteMessage(benP.doc, actorOf(r, r.ben), { id: first }).ok).toBe(true);
    await summaryIs(anaP.doc, root, { replyCount: 1, participants: [r.ana.id, r.ben.id] });
    // A client may not write a summary itself: the server refuses it and closes the connection.
    for (const p of providers.splice(0)) p.destroy();
    await r.t.restart();
    const again = open(r, r.roomId, r.ben);
    await synced(again);
    expect(threadSummaryIn(again.doc, root)).toMatchObject({ replyCount: 1 });
  }, 30_000);

  it('rebuilds the summaries of a room stored without them when it loads', async () => {
    room = await startWithRoom();
    const r = room;
    await r.t.stop();
    const doc = new Y.Doc();
    const root = write(r, doc, r.ana, 'root', { id: uuidv7() });
    for (let i = 0; i < 3; i++) write(r, doc, r.ana, `reply ${i}`, { parentId: root });
    headMaps(doc).threads.set(uuidv7(), { replyCount: 9, lastReplyAt: null, participants: [], segments: [] });
    const db = openDatabase(r.t.config.dbFile);
    new SqliteUpdateStore(db).append([{ roomId: r.roomId, update: Y.encodeStateAsUpdate(doc) }], [{ roomId: r.roomId, clientId: doc.clientID, userId: r.ana.id }]);
    db.close();
    await r.t.restart();
    const p = open(r, r.roomId, r.ben);
    await summaryIs(p.doc, root, { replyCount: 3, participants: [r.ana.id] });
    expect(headMaps(p.doc).threads.size).toBe(1);
  }, 30_000);

  it('in a segmented room: lists the segments holding replies, counts a re-homed late reply once, and a deletion in its segment', async () => {
    room = await startWithRoom(ONE_FRAME_REPLIES);
    const r = room;
    await r.t.stop();
    // A sealed segment 0 and an open segment 1 holding 10 messages; the root is in segment 0.
    const ids = seedSegmentedRoom(r.t, r.roomId, r.ana.id, M + 10);
    await r.t.restart();
    const root = ids[5] ?? '';
    const head = open(r, r.roomId, r.ana);
    await synced(head);
    expect(SegmentIndex.of(head.doc).open?.n).toBe(1);
    const ben = await CommandClient.connect(r.t, r.ben);
    const reply = await ben.request('send_message', { room_id: r.roomId, content: 'reply in the open segment', parent_id: root });
    expect(reply.success, JSON.stringify(reply)).toBe(true);
    await summaryIs(head.doc, root, { replyCount: 1, participants: [r.ben.id], segments: [1] });

    // A device that did not hear of the seal writes a reply into segment 0: its id is past 0's
    // range, so the server moves it into segment 1. The count moves once, never twice.
    const stale = open(r, segmentDocName(r.roomId, 0), r.ana);
    await synced(stale);
    const seen: number[] = [];
    const late = write(r, stale.doc, r.ana, 'late reply', { parentId: root });
    await acknowledged(stale);
    await summaryIs(head.doc, root, { replyCount: 2, participants: [r.ana.id, r.ben.id], segments: [1] }, seen);
    expect(Math.max(...seen)).toBe(2);

    const deleted = await ben.request('delete_message', { room_id: r.roomId, message_id: (reply.data as { message: { id: string } }).message.id });
    expect(deleted.success, JSON.stringify(deleted)).toBe(true);
    await summaryIs(head.doc, root, { replyCount: 1, segments: [1] });
    const thread = await ben.request('fetch_history', { room_id: r.roomId, parent_id: root });
    expect((thread.data as { messages: Array<{ id: string; is_deleted: boolean }> }).messages.map((m) => [m.id === late, m.is_deleted])).toEqual([[false, true], [true, false]]);
    await ben.close();
  }, 60_000);

  it('keeps the summaries in the head when a room is converted into segments, listing the segments the replies went to', async () => {
    room = await startWithRoom(ONE_FRAME_REPLIES);
    const r = room;
    await r.t.stop();
    seedSingleDocumentRoom(r.t, r.roomId, r.ana.id, M - 2);
    await r.t.restart();
    const p = open(r, r.roomId, r.ana);
    await synced(p);
    const root = write(r, p.doc, r.ana, 'root');
    write(r, p.doc, r.ana, 'reply one', { parentId: root });
    write(r, p.doc, r.ana, 'reply two', { parentId: root });
    await acknowledged(p);
    // M + 1 messages: the oldest M (root and the first reply with them) in sealed segment 0, the last reply in 1.
    await untilDoc(p.doc, (doc) => SegmentIndex.of(doc).segmented);
    await summaryIs(p.doc, root, { replyCount: 2, participants: [r.ana.id], segments: [0, 1] });
  }, 60_000);
});
