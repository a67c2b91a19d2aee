import { type MessagePort, parentPort, workerData } from 'node:worker_threads';
import { z } from 'zod';
import { openDatabase } from './openDatabase.ts';
import { SqliteUpdateStore } from './SqliteUpdateStore.ts';
import { openPostgres } from './pg/openPostgres.ts';
import { PgUpdateStore } from './pg/PgUpdateStore.ts';
import type { StoredRoom } from './UpdateStore.ts';
import { mergeRoom } from './compactRoom.ts';
import { splitDecoded, splitUpdate } from '../../shared/yjs/splitUpdate.ts';
import { stateOfDecoded } from '../../shared/yjs/updateState.ts';
import { encodeFrame } from '../../shared/protocol/frames.ts';
import * as Y from 'yjs';
import { docOfStored } from './docOfStored.ts';
import { encodeRecentPage } from '../../shared/protocol/recentPage.ts';
import { listMessages } from '../../shared/roomDoc/queries.ts';
import type { MessageView } from '../../shared/roomDoc/messageView.ts';
import { type RoomIndex, roomIndex } from '../../shared/roomDoc/RoomIndex.ts';
import { isTombstone } from '../../shared/roomDoc/layout.ts';
import { storedAttachmentRefs } from './storedAttachmentRefs.ts';

/**
 * The document a `messageRange` request read last, kept for the next range of the same document
 * (a reader walks one document range by range); dropped at its last range or another document.
 */
let ranged: { readonly docName: string; readonly doc: Y.Doc; readonly index: RoomIndex } | null = null;

/** Messages `from` to `from + count` of a stored document in id order, and its state vector with the last range. */
async function messageRange(store: StoredReader, docName: string, from: number, count: number) {
  if (ranged?.docName !== docName) {
    ranged?.doc.destroy();
    ranged = null;
    const stored = await store.load(docName);
    const doc = docOfStored(stored);
    ranged = { docName, doc, index: roomIndex(doc) };
  }
  const { doc, index } = ranged;
  const messages = index.idsBetween(from, Math.min(index.size, from + count)).flatMap((id) => {
    const value = index.message(id);
    if (!value) return [];
    return [{ id, senderId: value.senderId, type: value.type, createdAt: value.createdAt, content: value.content, deleted: index.deletion(id) !== undefined || isTombstone(value) }];
  });
  const done = from + count >= index.size;
  const stateVector = done ? Y.encodeStateVector(doc) : null;
  if (done) {
    doc.destroy();
    ranged = null;
  }
  return { messages, total: index.size, stateVector };
}

/**
 * The newest `limit` messages of the documents `docNames` (a room's segments, newest first), as
 * server/segments/roomHistory.ts historyPage reads them from loaded ones, oldest first.
 */
async function newestMessages(store: StoredReader, docNames: readonly string[], limit: number): Promise<MessageView[]> {
  const messages: MessageView[] = [];
  for (const docName of docNames) {
    const stored = await store.load(docName);
    const doc = docOfStored(stored);
    try {
      const page = listMessages(doc, { limit: limit - messages.length });
      messages.unshift(...page.messages);
      if (page.hasMore || messages.length >= limit) break;
    } finally {
      doc.destroy();
    }
  }
  return messages;
}

/** An update that holds nothing (a document never written). */
const EMPTY_UPDATE = new Uint8Array([0, 0]);

/** What the worker reads stored documents from: SQLite's store resolves at once, PostgreSQL's after its query. */
interface StoredReader {
  load(docName: string): StoredRoom | Promise<StoredRoom>;
}

/**
 * The storage worker thread's work (started through storageWorkerEntry.ts): reads rooms on its own
 * connection (SQLite: a WAL reader, which never blocks the main thread's writes; PostgreSQL: a pool
 * of one) and does the heavy work on them; it writes nothing. Bytes go back transferred, not copied.
 */
export const StorageWorkerDataSchema = z.discriminatedUnion('backend', [
  z.object({ backend: z.literal('sqlite'), dbFile: z.string(), synchronous: z.enum(['NORMAL', 'FULL']) }),
  z.object({ backend: z.literal('postgres'), url: z.string(), queryTimeoutMs: z.number().int().positive().optional() }),
]);
export type StorageWorkerData = z.infer<typeof StorageWorkerDataSchema>;
const RequestSchema = z.discriminatedUnion('kind', [
  z.object({ id: z.number(), kind: z.literal('merge'), roomId: z.string() }),
  z.object({ id: z.number(), kind: z.literal('loadChunks'), roomId: z.string(), chunkBytes: z.number().int().min(1024) }),
  z.object({ id: z.number(), kind: z.literal('servedState'), roomId: z.string(), chunkBytes: z.number().int().min(1024) }),
  z.object({ id: z.number(), kind: z.literal('diffChunks'), roomId: z.string(), chunkBytes: z.number().int().min(1024), stateVector: z.instanceof(Uint8Array) }),
  z.object({ id: z.number(), kind: z.literal('newestMessages'), roomId: z.string(), docNames: z.array(z.string()), limit: z.number().int().min(1) }),
  z.object({ id: z.number(), kind: z.literal('messageRange'), roomId: z.string(), from: z.number().int().min(0), count: z.number().int().min(1) }),
  z.object({ id: z.number(), kind: z.literal('attachmentRefs'), roomId: z.string(), recorded: z.array(z.string()) }),
]);

/** An update's parts as reply frames: a step 2, then updates. */
const framed = (parts: readonly Uint8Array[]): Uint8Array[] =>
  parts.map((part, i) => encodeFrame(i === 0 ? { type: 'syncStep2', update: part } : { type: 'update', update: part }));

/** A state's update as reply frames, each about `chunkBytes`. */
const replyFrames = (update: Uint8Array, chunkBytes: number): Uint8Array[] => framed(splitUpdate(update, chunkBytes));

/** The buffers of `frames`, each once, to transfer rather than copy. */
const buffersOf = (frames: readonly Uint8Array[]): ArrayBuffer[] => [...new Set(frames.map((f) => f.buffer as ArrayBuffer))];

/** The worker's store and how to close it. */
async function openStore(data: StorageWorkerData): Promise<{ store: StoredReader; close: () => void }> {
  if (data.backend === 'sqlite') {
    const db = openDatabase(data.dbFile, { synchronous: data.synchronous });
    return { store: new SqliteUpdateStore(db), close: () => db.close() };
  }
  // Migrations are the main thread's: the worker's pool only reads.
  const pool = await openPostgres(data.url, { maxConnections: 1, migrate: false, ...(data.queryTimeoutMs === undefined ? {} : { queryTimeoutMs: data.queryTimeoutMs }) });
  return { store: new PgUpdateStore(pool), close: () => void pool.end() };
}

/** Answers one request (posts its reply, or its failure). */
async function answer(port: MessagePort, store: StoredReader, raw: unknown): Promise<void> {
  const request = RequestSchema.parse(raw);
  const { id, roomId } = request;
  try {
    if (request.kind === 'messageRange') {
      port.postMessage({ id, ok: true, ...(await messageRange(store, roomId, request.from, request.count)) });
      return;
    }
    if (request.kind === 'attachmentRefs') {
      port.postMessage({ id, ok: true, ...storedAttachmentRefs(await store.load(roomId), request.recorded) });
      return;
    }
    if (request.kind === 'newestMessages') {
      port.postMessage({ id, ok: true, page: encodeRecentPage(await newestMessages(store, request.docNames, request.limit)) });
      return;
    }
    const stored = await store.load(roomId);
    const merged = mergeRoom(roomId, stored);
    if (request.kind === 'merge') {
      port.postMessage({ id, ok: true, ...merged }, merged.snapshot ? [merged.snapshot.buffer as ArrayBuffer] : []);
      return;
    }
    const state = merged.snapshot ?? stored.snapshot;
    if (request.kind === 'diffChunks') {
      const frames = replyFrames(Y.diffUpdate(state ?? EMPTY_UPDATE, request.stateVector), request.chunkBytes);
      port.postMessage({ id, ok: true, frames }, buffersOf(frames));
      return;
    }
    if (request.kind === 'servedState') {
      // One decoding for the frames, the state vector and the delete set.
      const decoded = Y.decodeUpdate(state ?? EMPTY_UPDATE);
      const parts = state ? splitDecoded(state, decoded, request.chunkBytes) : [];
      const frames = framed(parts);
      port.postMessage({ id, ok: true, frames, ...stateOfDecoded(decoded) }, buffersOf(frames));
      return;
    }
    // Framed here, as the whole-room reply's frames (a step 2, then updates): the main thread
    // applies the update inside each and sends the frames as they are, copying nothing.
    const frames = state ? replyFrames(state, request.chunkBytes) : [];
    port.postMessage(
      {
        id,
        ok: true,
        frames,
        clientOwners: stored.clientOwners,
        logUpdates: stored.updates.length,
        logBytes: stored.updates.reduce((sum, u) => sum + u.byteLength, 0),
        snapshotBytes: stored.snapshot?.byteLength ?? 0,
      },
      buffersOf(frames),
    );
  } catch (err) {
    port.postMessage({ id, ok: false, roomId, error: err instanceof Error ? err.message : String(err) });
  }
}

const port = parentPort;
if (port) {
  const opening = openStore(StorageWorkerDataSchema.parse(workerData));
  // One request at a time, in order, as the main thread expects (and `ranged` needs).
  let tail: Promise<unknown> = opening;
  port.on('message', (raw: unknown) => {
    tail = tail.then(async () => answer(port, (await opening).store, raw));
  });
  port.on('close', () => void opening.then(({ close }) => close()));
}
