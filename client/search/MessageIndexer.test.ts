import * as Y from 'yjs';
import { describe, expect, it } from 'vitest';
import { createMessage, deleteMessage, editMessage } from '../../shared/roomDoc/messageOps.ts';
import { roomMaps } from '../../shared/roomDoc/layout.ts';
import { segmentDocName } from '../../shared/roomDoc/segments.ts';
import { ALICE, T0, alice, carolAdmin, sent, v7 } from '../../test/support/roomDocFixtures.ts';
import { MemoryLocalStore } from '../store/MemoryLocalStore.ts';
import { LocalSearchIndex } from './LocalSearchIndex.ts';
import { MessageIndexer } from './MessageIndexer.ts';
import { parseSearchQuery } from '../../shared/search/parseSearchQuery.ts';
import { QueryMatcher } from './QueryMatcher.ts';
import { StoredRoomsIndexer } from './StoredRoomsIndexer.ts';

const ROOM = '0195f3b2-0000-7000-8000-00000000000a';
const find = (index: LocalSearchIndex, text: string): string[] => index.search(new QueryMatcher(parseSearchQuery(text))).map((h) => h.id);

function setup(): { index: LocalSearchIndex; indexer: MessageIndexer } {
  const index = new LocalSearchIndex();
  return { index, indexer: new MessageIndexer(index) };
}

describe('MessageIndexer', () => {
  it('follows a document: what it holds, then adds, edits, deletions (record or tombstone); system and empty messages are left out', async () => {
    const { index, indexer } = setup();
    const doc = new Y.Doc();
    const first = sent(createMessage(doc, alice, { content: 'before attach', now: T0 }));
    indexer.attach(ROOM, doc);
    await indexer.idle();
    expect(find(index, 'attach')).toEqual([first]);

    const second = sent(createMessage(doc, alice, { content: 'lunch <b>today</b>?', now: T0 + 1 }));
    // Never on the path of the write: nothing is indexed until a turn runs.
    expect(find(index, 'lunch')).toEqual([]);
    await indexer.idle();
    expect(find(index, 'lunch')).toEqual([second]);
    expect(index.get(second)).toMatchObject({ roomId: ROOM, senderId: ALICE, createdAt: T0 + 1 });

    editMessage(doc, alice, { id: second, content: 'dinner tonight', now: T0 + 2 });
    await indexer.idle();
    expect(find(index, 'lunch')).toEqual([]);
    expect(find(index, 'dinner')).toEqual([second]);

    deleteMessage(doc, carolAdmin, { id: second, now: T0 + 3 });
    await indexer.idle();
    expect(find(index, 'dinner')).toEqual([]);
    expect(index.deleted(second)).toBe(true);

    // A deletion record alone (a peer's deletion arriving before its tombstone) is enough.
    roomMaps(doc).deletions.set(first, { deletedAt: T0 + 4, deletedBy: ALICE });
    await indexer.idle();
    expect(find(index, 'attach')).toEqual([]);

    const blank = sent(createMessage(doc, alice, { content: '   ', now: T0 + 5 }));
    roomMaps(doc).messages.set(v7(T0 + 6, 1), { id: v7(T0 + 6, 1), senderId: null, type: 'system', content: 'Ana joined', meta: {}, createdAt: T0 + 6 });
    await indexer.idle();
    expect(index.has(blank)).toBe(false);
    expect(find(index, 'joined')).toEqual([]);
  });

  it('a message the server moved out of the head stays found; a segment document feeds the index as it loads', async () => {
    const { index, indexer } = setup();
    const head = new Y.Doc();
    const id = sent(createMessage(head, alice, { content: 'moved along', now: T0 }));
    indexer.attach(ROOM, head);
    await indexer.idle();
    head.transact(() => roomMaps(head).messages.delete(id));
    await indexer.idle();
    expect(find(index, 'moved')).toEqual([id]);

    const segment = new Y.Doc();
    const old = sent(createMessage(segment, alice, { content: 'from an old segment', now: T0 - 10_000 }));
    indexer.attach(segmentDocName(ROOM, 0), segment);
    await indexer.idle();
    expect(index.get(old)?.roomId).toBe(ROOM);
    expect(find(index, 'segment')).toEqual([old]);
  });

  it('a document destroyed with changes still due has them read first; a detached one is no longer followed', async () => {
    const { index, indexer } = setup();
    const doc = new Y.Doc();
    indexer.attach(ROOM, doc);
    const id = sent(createMessage(doc, alice, { content: 'last words', now: T0 }));
    doc.destroy();
    expect(find(index, 'last')).toEqual([id]);
    expect(indexer.busy).toBe(false);
  });

  it('the start-up pass reads stored rooms (head, then segments); a live replica of a document wins over its stored copy', async () => {
    const store = new MemoryLocalStore();
    const head = new Y.Doc();
    roomMaps(head);
    head.getMap('segments').set('0', { sealed: false, first: null, last: null, count: 0 });
    const segment = new Y.Doc();
    const stored = sent(createMessage(segment, alice, { content: 'stored on the device', now: T0 }));
    await store.appendUpdates(ROOM, [Y.encodeStateAsUpdate(head)]);
    await store.appendUpdates(segmentDocName(ROOM, 0), [Y.encodeStateAsUpdate(segment)]);

    const { index, indexer } = setup();
    await new StoredRoomsIndexer(store, indexer).run([ROOM]);
    await indexer.idle();
    expect(find(index, 'stored')).toEqual([stored]);

    // The live copy was edited after the stored one was written: reading the stored copy again
    // (a start-up pass racing the replica) must not bring the old text back.
    const live = new Y.Doc();
    Y.applyUpdate(live, Y.encodeStateAsUpdate(segment));
    editMessage(live, alice, { id: stored, content: 'edited live', now: T0 + 1 });
    indexer.attach(segmentDocName(ROOM, 0), live);
    await new StoredRoomsIndexer(store, indexer).run([ROOM]);
    await indexer.idle();
    expect(find(index, 'stored')).toEqual([]);
    expect(find(index, 'edited')).toEqual([stored]);
  });
});
