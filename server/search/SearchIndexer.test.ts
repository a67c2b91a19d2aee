import { afterEach, describe, expect, it } from 'vitest';
import * as Y from 'yjs';
import pino from 'pino';
import type { Room } from '../sync/Room.ts';
import path from 'node:path';
import type { Db } from '../storage/openDatabase.ts';
import { makeTempDir } from '../../test/support/tempDir.ts';
import { openSearchDatabase } from './openSearchDatabase.ts';
import { SearchWorker } from './SearchWorker.ts';
import { moveMessages } from '../segments/moveMessages.ts';
import { createMessage, deleteMessage, editMessage } from '../../shared/roomDoc/messageOps.ts';
import { segmentDocName } from '../../shared/roomDoc/segments.ts';
import { T0, alice, sent, v7 } from '../../test/support/roomDocFixtures.ts';
import { SearchIndexer } from './SearchIndexer.ts';

/*
 * The indexer on its own, over documents standing in for loaded rooms: edits, deletions, and a
 * message the Segmenter moves from a head into a segment (one row, whichever document is indexed
 * first).
 */
const ROOM = '0193f5d2-1111-7000-8000-000000000001';

let worker: SearchWorker;
let indexer: SearchIndexer;
let reader: Db;
let tmp: ReturnType<typeof makeTempDir>;
afterEach(async () => {
  indexer.close();
  await worker.close();
  reader.close();
  tmp.remove();
});

/** The indexer over a real search worker and index file; the test reads the file on its own connection. */
function setup(): { load: (name: string) => Room; committed: (room: Room) => void } {
  tmp = makeTempDir('parley-indexer-');
  const file = path.join(tmp.dir, 'parley.search.db');
  worker = new SearchWorker({ backend: 'sqlite', file }, pino({ level: 'silent' }));
  reader = openSearchDatabase(file);
  indexer = new SearchIndexer({ worker, logger: pino({ level: 'silent' }) });
  const load = (name: string): Room => {
    // The indexer reads a loaded room's name, document and whether it closed: nothing else.
    const room = { roomId: name, doc: new Y.Doc(), closed: false } as unknown as Room;
    indexer.roomLoaded(room);
    return room;
  };
  const committed = (room: Room): void => indexer.stage({ room, updates: [{ seq: 1, update: new Uint8Array(), origin: null }], writers: [], stateVector: null });
  return { load, committed };
}

/** What the index finds for `text` in ROOM, once every write sent so far is applied. */
async function found(text: string): Promise<string[]> {
  return (await worker.search({ terms: [{ text, phrase: true, prefix: false }], roomIds: [ROOM], limit: 10, offset: 0 })).map((h) => h.messageId);
}
const docOf = async (id: string): Promise<unknown> => {
  await worker.settled();
  return reader.prepare('SELECT doc_name FROM search_rows WHERE message_id = ?').pluck().get(id);
};

describe('SearchIndexer', () => {
  it('writes nothing until its turn, then follows edits and deletions', async () => {
    const { load, committed } = setup();
    const room = load(ROOM);
    const kept = sent(createMessage(room.doc, alice, { id: v7(T0, 1), content: 'orange juice', now: T0 }));
    const gone = sent(createMessage(room.doc, alice, { id: v7(T0 + 1, 2), content: 'orange peel', now: T0 + 1 }));
    committed(room);
    expect(await found('orange')).toEqual([]);
    expect(indexer.idle).toBe(false);
    indexer.flush();
    expect((await found('orange')).sort()).toEqual([kept, gone].sort());

    expect(editMessage(room.doc, alice, { id: kept, content: 'apple juice', now: T0 + 5 }).ok).toBe(true);
    expect(deleteMessage(room.doc, alice, { id: gone, now: T0 + 6 }).ok).toBe(true);
    committed(room);
    indexer.flush();
    expect(await found('orange')).toEqual([]);
    expect(await found('apple')).toEqual([kept]);
  });

  it.each(['segment first', 'head first'] as const)('keeps one row for a message moved from the head into a segment (%s)', async (order) => {
    const { load, committed } = setup();
    const head = load(ROOM);
    const segment = load(segmentDocName(ROOM, 0));
    const id = sent(createMessage(head.doc, alice, { id: v7(T0, 1), content: 'moving day', now: T0 }));
    committed(head);
    indexer.flush();
    expect(await docOf(id)).toBe(ROOM);

    moveMessages(head.doc, segment.doc, [id], null);
    for (const room of order === 'segment first' ? [segment, head] : [head, segment]) committed(room);
    indexer.flush();
    expect(await found('moving')).toEqual([id]);
    expect(await docOf(id)).toBe(segmentDocName(ROOM, 0));
  });

  it('stops watching a document dropped without roomUnloading (a failed room)', async () => {
    const { load, committed } = setup();
    const room = load(ROOM);
    createMessage(room.doc, alice, { id: v7(T0, 1), content: 'never indexed', now: T0 });
    (room as { closed: boolean }).closed = true;
    indexer.roomUnloaded(ROOM);
    committed(room);
    expect(indexer.idle).toBe(true);
    indexer.flush();
    expect(await found('indexed')).toEqual([]);
  });

  it('indexes a loaded document whole unless the index holds it as it is', async () => {
    const { load } = setup();
    const source = new Y.Doc();
    const id = sent(createMessage(source, alice, { id: v7(T0, 1), content: 'stored before search', now: T0 }));
    const room = load(ROOM);
    // The index answered for the (empty) document as it loaded.
    await worker.settled();
    // Changes applied while watched but not yet committed are picked up by the whole-document pass too.
    Y.applyUpdate(room.doc, Y.encodeStateAsUpdate(source));
    indexer.roomUnloading(room);
    expect(await found('stored')).toEqual([id]);

    // Loaded again unchanged: nothing is due.
    const again = { roomId: ROOM, doc: new Y.Doc(), closed: false } as unknown as Room;
    Y.applyUpdate(again.doc, Y.encodeStateAsUpdate(source));
    indexer.roomLoaded(again);
    // Its check is answered by the worker; anything due would be marked by then.
    await worker.settled();
    expect(indexer.idle).toBe(true);
  });

  it('records a loaded document as held only once the index has answered for it, though its new changes are indexed before', async () => {
    const { committed } = setup();
    // Stored with a message the index never held.
    const room = { roomId: ROOM, doc: new Y.Doc(), closed: false } as unknown as Room;
    const old = sent(createMessage(room.doc, alice, { id: v7(T0, 1), content: 'stored apricot', now: T0 }));
    indexer.roomLoaded(room);
    // A change committed and handled before the worker's answer about the document as it loaded.
    const fresh = sent(createMessage(room.doc, alice, { id: v7(T0 + 1, 2), content: 'fresh apricot', now: T0 + 1 }));
    committed(room);
    indexer.flush();
    await worker.settled();
    expect(await found('fresh')).toEqual([fresh]);
    // Not recorded as held whole: a crash now would leave the stored message to the next load.
    const recorded = (): unknown => reader.prepare('SELECT count(*) FROM search_indexed WHERE doc_name = ?').pluck().get(ROOM);
    expect(recorded()).toBe(0);
    // The answer made the whole document due.
    expect(indexer.idle).toBe(false);
    indexer.flush();
    expect((await found('apricot')).sort()).toEqual([old, fresh].sort());
    expect(recorded()).toBe(1);
  });
});
