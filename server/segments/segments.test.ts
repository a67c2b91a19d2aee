import { afterEach, describe, expect, it } from 'vitest';
import * as Y from 'yjs';
import type { WebsocketProvider } from 'y-websocket';
import { connectProvider, startWithRoom, synced, untilDoc, type TwoMemberRoom } from '../../test/support/serverHarness.ts';
import { seedSingleDocumentRoom } from '../../test/support/seededRooms.ts';
import { CommandClient } from '../../test/support/commandClient.ts';
import { SEGMENT_MAX_MESSAGES, SegmentIndex, segmentDocName } from '../../shared/roomDoc/segments.ts';
import { listMessages, messageCount } from '../../shared/roomDoc/queries.ts';
import { roomMaps } from '../../shared/roomDoc/layout.ts';

const providers: WebsocketProvider[] = [];
let room: TwoMemberRoom | null = null;

afterEach(async () => {
  for (const p of providers.splice(0)) p.destroy();
  await room?.t.dispose();
  room = null;
});

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

/** Every segment the head names, synced over stock providers. */
async function segmentDocs(r: TwoMemberRoom, head: Y.Doc): Promise<Map<number, Y.Doc>> {
  const docs = new Map<number, Y.Doc>();
  for (const n of SegmentIndex.of(head).newestFirst().reverse()) {
    const provider = open(r, segmentDocName(r.roomId, n));
    await synced(provider);
    docs.set(n, provider.doc);
  }
  return docs;
}

describe('a room in segments', () => {
  it('migrates a 50,000-message single-document room on load without loss, and it stays migrated after a restart', async () => {
    room = await startWithRoom();
    const r = room;
    await r.t.stop();
    const ids = seedSingleDocumentRoom(r.t, r.roomId, r.ana.id, 50_000);
    await r.t.restart();

    const head = await convertedHead(r);
    const index = SegmentIndex.of(head);
    expect(index.sealed).toHaveLength(10);
    expect(index.open?.n).toBe(10);
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
  }, 60_000);
});
