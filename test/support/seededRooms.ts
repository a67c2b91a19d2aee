import * as Y from 'yjs';
import { openDatabase } from '../../server/storage/openDatabase.ts';
import { SqliteUpdateStore } from '../../server/storage/SqliteUpdateStore.ts';
import { MentionRepo } from '../../server/storage/MentionRepo.ts';
import { SearchRepo } from '../../server/search/SearchRepo.ts';
import { openSearchDatabase, searchDbFileOf } from '../../server/search/openSearchDatabase.ts';
import { indexStoredDoc } from '../../server/search/indexStoredDoc.ts';
import { countedMentions } from '../../shared/roomDoc/mentionCounts.ts';
import { uuidv7 } from '../../shared/ids.ts';
import { roomMaps } from '../../shared/roomDoc/layout.ts';
import { SEGMENT_MAX_MESSAGES, segmentDocName, segmentsMap } from '../../shared/roomDoc/segments.ts';
import type { TestServer } from './serverHarness.ts';

/**
 * Gives a room of a stopped test server a history of `count` messages by `authorId`, the way an
 * older Parley stored a room: one document (no segments), one logged update whose client id is
 * bound to its author, as the sync path commits it. Returns the ids, oldest first. Values are
 * written straight into the maps (what createMessage writes, without its per-message checks: a
 * few hundred thousand in a second or two).
 */
export function seedSingleDocumentRoom(
  t: TestServer,
  roomId: string,
  authorId: string,
  count: number,
  content: (i: number) => string = (i) => `history ${i}`,
): string[] {
  const doc = new Y.Doc();
  const { messages } = roomMaps(doc);
  const ids = mintIds(count);
  doc.transact(() => {
    ids.forEach((id, i) => messages.set(id, messageValue(id, authorId, content(i))));
  });
  const db = openDatabase(t.config.dbFile);
  try {
    new SqliteUpdateStore(db).append([{ roomId, update: Y.encodeStateAsUpdate(doc) }], [{ roomId, clientId: doc.clientID, userId: authorId }]);
  } finally {
    db.close();
  }
  doc.destroy();
  return ids;
}

/** Gives a running test server's room a history in segments (seedSegmentedRoom): stops it, seeds, starts it again. */
export async function withSegmentedHistory(t: TestServer, roomId: string, authorId: string, count: number, options: SeedOptions = {}): Promise<string[]> {
  await t.stop();
  const ids = seedSegmentedRoom(t, roomId, authorId, count, options);
  await t.restart();
  return ids;
}

export interface SeedOptions {
  /** The users message i mentions (`mentionedUsers`, members of the room), if any. */
  readonly mentions?: (i: number) => readonly string[] | undefined;
  /** As an older Parley left the room: no segment's mentions recorded in `segment_mentions`. */
  readonly unrecordedMentions?: boolean;
  /** Message i's text (default `history <its id>`). */
  readonly content?: (i: number, id: string) => string;
  /** Messages in each sealed segment (default SEGMENT_MAX_MESSAGES; fewer: a small room with the layout of a big one). */
  readonly perSegment?: number;
  /** Whether the messages' text goes into the search index (indexStoredDoc); else the documents are only recorded as indexed. */
  readonly searchable?: boolean;
}

/**
 * Gives a room of a stopped test server a history of `count` messages by `authorId` already in
 * segments, as the server's Segmenter leaves a room: sealed segments of `perSegment` (default SEGMENT_MAX_MESSAGES; their
 * ranges in the head's `segments` map) and the rest in the open segment. Returns the ids, oldest first.
 */
export function seedSegmentedRoom(
  t: TestServer,
  roomId: string,
  authorId: string,
  count: number,
  { mentions, unrecordedMentions = false, content = (_i, id) => `history ${id}`, searchable = false, perSegment }: SeedOptions = {},
): string[] {
  const ids = mintIds(count);
  const db = openDatabase(t.config.dbFile);
  try {
    const store = new SqliteUpdateStore(db);
    const mentionRepo = new MentionRepo(db);
    // Recorded as indexed, as a server that wrote the room would leave it, so the search backfill
    // leaves them alone; the text goes into the index only when `searchable` (as `parley reindex`
    // writes it), for the few tests that search seeded history.
    const searchDb = openSearchDatabase(searchDbFileOf(t.config.dbFile));
    const searchRepo = new SearchRepo(searchDb);
    const markIndexed = (name: string, doc: Y.Doc): void => {
      if (searchable) indexStoredDoc(store, searchRepo, name);
      else searchRepo.recordIndexed(name, Y.encodeStateVector(doc));
    };
    for (const { name, doc, segment } of segmentedRoomDocs(roomId, authorId, ids, { ...(mentions ? { mentions } : {}), ...(perSegment ? { perSegment } : {}), content })) {
      // As the server records a segment's mentions when it seals or loads it (RoomSummaries).
      if (segment !== null && !unrecordedMentions) mentionRepo.replaceSegment(roomId, segment, countedMentions(doc));
      store.append([{ roomId: name, update: Y.encodeStateAsUpdate(doc) }], segment === null ? [] : [{ roomId: name, clientId: doc.clientID, userId: authorId }]);
      markIndexed(name, doc);
      doc.destroy();
    }
    searchDb.close();
  } finally {
    db.close();
  }
  return ids;
}

/**
 * The documents of a room whose history `ids` is in segments, as the Segmenter leaves it: each
 * segment (sealed ones of SEGMENT_MAX_MESSAGES, then the open one), then the head naming them
 * (`segment` null). The caller stores each, then destroys it.
 */
export function* segmentedRoomDocs(
  roomId: string,
  authorId: string,
  ids: readonly string[],
  { mentions, content = (_i, id) => `history ${id}`, perSegment = SEGMENT_MAX_MESSAGES }: Pick<SeedOptions, 'mentions' | 'content' | 'perSegment'> = {},
): Generator<{ name: string; doc: Y.Doc; segment: number | null }> {
  const count = ids.length;
  const M = perSegment;
  const head = new Y.Doc();
  const segments = segmentsMap(head);
  for (let n = 0; n * M < count || n === 0; n++) {
    const part = ids.slice(n * M, (n + 1) * M);
    const doc = new Y.Doc();
    const { messages } = roomMaps(doc);
    doc.transact(() => {
      part.forEach((id, i) => {
        const mentioned = mentions?.(n * M + i);
        messages.set(id, { ...messageValue(id, authorId, content(n * M + i, id)), ...(mentioned?.length ? { mentionedUsers: [...mentioned] } : {}) });
      });
    });
    yield { name: segmentDocName(roomId, n), doc, segment: n };
    const sealed = part.length === M;
    segments.set(String(n), sealed ? { sealed, first: part[0] ?? null, last: part.at(-1) ?? null, count: part.length } : { sealed, first: null, last: null, count: 0 });
    if (sealed && (n + 1) * M === count) segments.set(String(n + 1), { sealed: false, first: null, last: null, count: 0 });
  }
  yield { name: roomId, doc: head, segment: null };
}

export function mintIds(count: number): string[] {
  const start = Date.now();
  return Array.from({ length: count }, () => uuidv7(start));
}

function messageValue(id: string, senderId: string, content: string) {
  return { id, senderId, type: 'text', content, meta: {}, createdAt: Number.parseInt(id.slice(0, 8) + id.slice(9, 13), 16) };
}
