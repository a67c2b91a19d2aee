import path from 'node:path';
import pino from 'pino';
import * as Y from 'yjs';
import { afterEach, describe, expect, it } from 'vitest';
import { uuidv4 } from '../../shared/ids.ts';
import { roomMaps } from '../../shared/roomDoc/layout.ts';
import { heldAttachments } from '../../shared/roomDoc/heldAttachments.ts';
import { createMessage, deleteMessage } from '../../shared/roomDoc/messageOps.ts';
import { makeTempDir } from '../../test/support/tempDir.ts';
import { attachmentRecord } from '../../test/support/attachmentRecord.ts';
import { daveOwner } from '../../test/support/roomDocFixtures.ts';
import type { BlobStore } from '../blobs/BlobStore.ts';
import type { AsyncApi } from '../storage/AsyncApi.ts';
import { type AttachmentRecord, AttachmentRepo, refOf } from '../storage/AttachmentRepo.ts';
import { type Db, openDatabase } from '../storage/openDatabase.ts';
import { SqliteAsync, sqliteAsync } from '../storage/SqliteAsync.ts';
import type { Room } from '../sync/Room.ts';
import { Attachments } from './Attachments.ts';
import { AttachmentTracker } from './AttachmentTracker.ts';
import type { ReadStoredRefs } from './ReadStoredRefs.ts';
import { liveReferences } from './referenceChecks.ts';
import { StoredReferenceScan } from './StoredReferenceScan.ts';

/*
 * The attachment subsystem on the asynchronous repository (AsyncApi<AttachmentRepo>), where an
 * await now sits between steps that used to be one synchronous step. Each case makes one
 * interleaving happen on purpose, over a real SQLite file: garbage collection's deletions against
 * a message applied by a promise continuation, against a room loading while the database answers
 * slowly (PostgreSQL), a background write in flight while a room unloads, a transaction that runs
 * twice (PostgreSQL's serialization retries), and close() with writes still queued.
 */
const logger = pino({ level: 'silent' });
const ANA = daveOwner;
const FAR = 10 ** 13;

let tmp: ReturnType<typeof makeTempDir>;
let db: Db;
let tracker: AttachmentTracker | null = null;
afterEach(async () => {
  await tracker?.close();
  tracker = null;
  if (db.open) db.close();
  tmp.remove();
});

/** A blob store with nothing in it: these cases are about records and rows. */
const noBlobs = {
  delete: async () => false,
} as unknown as BlobStore;

interface Setup {
  readonly sync: AttachmentRepo;
  readonly tracker: AttachmentTracker;
  readonly attachments: Attachments;
  readonly scan: StoredReferenceScan;
  /** Loads a document as the registry does: the tracker follows it, the scan leaves it to the tracker. */
  load(doc: Y.Doc, docName?: string): Room;
  /** Unloads it as the registry does. */
  unload(room: Room): void;
  /** A record of an upload to `roomId` by ana, collectable at FAR unless a message holds it. */
  upload(roomId: string): AttachmentRecord;
  sweep(): Promise<{ records: number; blobs: number }>;
  /** A pass on the setup's own clock, as the server's timer runs one. */
  sweepNow(): Promise<{ records: number; blobs: number }>;
  refRows(attachmentId: string): number;
}

type Wrap = (repo: AsyncApi<AttachmentRepo>) => AsyncApi<AttachmentRepo>;

/** The tracker, the scan and Attachments on one SQLite file; `tracker` wraps the repository the tracker gets (the others get it plain). */
function setup(over: { tracker?: Wrap; read?: ReadStoredRefs; clock?: () => number; clusterLock?: <R>(fn: () => Promise<R>) => Promise<R> } = {}): Setup {
  tmp = makeTempDir('parley-async-refs-');
  db = openDatabase(path.join(tmp.dir, 'parley.db'));
  const sync = new AttachmentRepo(db);
  const repo = sqliteAsync(sync, new SqliteAsync(db));
  const made = new AttachmentTracker({ repo: over.tracker ? over.tracker(repo) : repo, logger, ...(over.clock ? { now: over.clock } : {}) });
  tracker = made;
  const loaded = new Map<string, Room>();
  const scan = new StoredReferenceScan({
    repo,
    docNamesOf: (roomId) => [roomId],
    read: over.read ?? (async () => ({ stateVector: new Uint8Array([0]), held: [], present: [] })),
    isLoaded: (docName) => loaded.has(docName),
    writing: (job) => made.writing(job),
    logger,
  });
  const attachments = new Attachments({ repo, blobs: async () => noBlobs, settings: { maxBytes: 1000, quotaBytes: null, graceMs: 0, gcIntervalMs: 0 }, logger, ...(over.clock ? { now: over.clock } : {}), ...(over.clusterLock ? { clusterLock: over.clusterLock } : {}) });
  const references = liveReferences(made, scan);
  return {
    sync,
    tracker: made,
    attachments,
    scan,
    load(doc, docName = uuidv4()) {
      const room = { roomId: docName, doc, closed: false } as unknown as Room;
      loaded.set(docName, room);
      made.roomLoaded(room);
      scan.docLoaded(docName);
      return room;
    },
    unload(room) {
      made.roomUnloading(room);
      loaded.delete(room.roomId);
      (room as { closed: boolean }).closed = true;
      made.roomUnloaded(room.roomId);
    },
    upload(roomId) {
      const record = attachmentRecord(roomId, ANA.userId);
      sync.insert(record);
      return record;
    },
    sweep: () => attachments.collect(references, FAR),
    sweepNow: () => attachments.collect(references),
    refRows: (attachmentId) => db.prepare<[string], { n: number }>('SELECT count(*) AS n FROM attachment_refs WHERE attachment_id = ?').get(attachmentId)!.n,
  };
}

/** Resolves after `n` turns of the microtask queue (a promise continuation n steps away). */
async function microtasks(n: number): Promise<void> {
  for (let i = 0; i < n; i++) await null;
}

/**
 * Until the tracker has compared a loaded document with what the rows hold and written what that
 * asked for (the database answers within the turn), so that the test's own synchronous writes
 * never land inside one of its transactions.
 */
async function checked(s: Setup, roomId: string): Promise<void> {
  for (let i = 0; s.tracker.unchecked(roomId); i++) {
    if (i > 1000) throw new Error('the tracker never answered for the document');
    await null;
  }
  await s.tracker.flushNoted();
}

/** A document holding one message that names `record`. */
function docNaming(record: AttachmentRecord): Y.Doc {
  const doc = new Y.Doc();
  expect(createMessage(doc, ANA, { type: 'file', content: '', attachments: [refOf(record)] }).ok).toBe(true);
  return doc;
}

describe('garbage collection against what runs between its awaits', () => {
  it('never deletes a record a message applied by a promise continuation names: the message either has its row written first or finds the record gone', async () => {
    const s = setup();
    const roomId = uuidv4();
    const room = s.load(new Y.Doc(), roomId);
    await checked(s, roomId);
    let applied = 0;
    let refused = 0;
    // The message lands k microtask steps into the pass: one k falls between any two of its awaits.
    for (let k = 0; k < 120; k++) {
      const record = s.upload(roomId);
      const pass = s.sweep();
      await microtasks(k);
      // What the validator does, in one synchronous step: read the record, then apply the message.
      const found = s.sync.get(record.id);
      if (found) {
        expect(createMessage(room.doc, ANA, { type: 'file', content: '', attachments: [refOf(found)] }).ok).toBe(true);
        applied++;
      } else {
        refused++;
      }
      await pass;
      if (found) {
        expect(s.sync.get(record.id), `k = ${k}`).not.toBeNull();
        await s.tracker.flushNoted();
        expect(s.refRows(record.id)).toBe(1);
      }
    }
    // Both sides of the race happened.
    expect(applied).toBeGreaterThan(0);
    expect(refused).toBeGreaterThan(0);
  });

  it('collects, in a pass on its own clock, an upload whose message was deleted just before it, though the catch-up writes the release a moment later', async () => {
    // Every reading of the clock is a millisecond later than the one before: the pass starts,
    // then its catch-up writes the deletion's release at a later time than the start.
    let t = 1_000;
    const s = setup({ clock: () => t++ });
    const record = s.upload(uuidv4());
    const doc = docNaming(record);
    const room = s.load(doc, record.roomId);
    await checked(s, record.roomId);
    expect(s.refRows(record.id)).toBe(1);
    const [id] = [...roomMaps(doc).messages.keys()];
    expect(deleteMessage(doc, ANA, { id: id! }).ok).toBe(true);
    // Committed, as the commit stage tells the tracker; its write waits for the tracker's delay.
    s.tracker.stage({ room, updates: [{ seq: 1, update: new Uint8Array(), origin: null }], writers: [], stateVector: null });
    expect(await s.sweepNow()).toEqual({ records: 1, blobs: 0 });
    expect(s.refRows(record.id)).toBe(0);
    s.unload(room);
  });

  it('keeps the uploads of a room whose document loads while its stored state is read, though the database has not answered for it yet', async () => {
    // The storage worker's read of the stored document, and the tracker's check of the loaded one
    // (what the rows hold of it: slow, as a remote database may be), each answer when the test says.
    const read = gate();
    const check = gate();
    let stored = new Y.Doc();
    const s = setup({
      read: async (_docName, recorded) => {
        await read.wait();
        return refsOf(stored, recorded);
      },
      tracker: (repo) => ({
        ...repo,
        trackedState: async (docName: string) => {
          await check.wait();
          return repo.trackedState(docName);
        },
      }),
    });
    const roomId = uuidv4();
    const record = s.upload(roomId);
    // Stored with a message naming the upload, and no row for it (a crash lost it).
    stored = docNaming(record);

    const pass = s.sweep();
    await read.asked;
    // The room loads while the pass reads its stored document.
    const loadedDoc = new Y.Doc();
    Y.applyUpdate(loadedDoc, Y.encodeStateAsUpdate(stored));
    s.load(loadedDoc, roomId);
    await check.asked;
    read.open();
    expect(await pass).toEqual({ records: 0, blobs: 0 });
    expect(s.sync.get(record.id)).not.toBeNull();
    // Once the database answers, the tracker writes the row the crash lost.
    check.open();
    await checked(s, roomId);
    await s.tracker.flushNoted();
    expect(s.refRows(record.id)).toBe(1);
  });

  it('writes again, when its transaction runs a second time (PostgreSQL after a serialization failure), the rows it took before deleting', async () => {
    // Every transaction of the tracker runs once and is rolled back, then runs again.
    const s = setup({ tracker: (repo) => ({ ...repo, transaction: twice(repo) }) });
    const roomId = uuidv4();
    const room = s.load(new Y.Doc(), roomId);
    await checked(s, roomId);
    const record = s.upload(roomId);
    // Applied, noted, not written yet.
    expect(createMessage(room.doc, ANA, { type: 'file', content: '', attachments: [refOf(record)] }).ok).toBe(true);
    expect(await s.sweep()).toEqual({ records: 0, blobs: 0 });
    expect(s.sync.get(record.id)).not.toBeNull();
    expect(s.refRows(record.id)).toBe(1);
  });
});

describe('the tracker\'s writes', () => {
  it('land in the order they were read: a room unloading while a write of an older state is in flight ends with the rows of its last state', async () => {
    // Each transaction waits at a gate; when two wait, the database lets the newer one through first.
    const waiting: Array<() => void> = [];
    let gated = false;
    const s = setup({
      tracker: (repo) => ({
        ...repo,
        transaction: async <R>(fn: (tx: AsyncApi<AttachmentRepo>) => Promise<R>): Promise<R> => {
          if (gated) await new Promise<void>((go) => waiting.push(go));
          return repo.transaction(fn);
        },
      }),
    });
    const roomId = uuidv4();
    const room = s.load(new Y.Doc(), roomId);
    await checked(s, roomId);
    const record = s.upload(roomId);
    const message = createMessage(room.doc, ANA, { type: 'file', content: '', attachments: [refOf(record)] });
    if (!message.ok) throw new Error(message.message);
    gated = true;
    // A background write takes the message as it holds the upload, and waits in the database.
    const first = s.tracker.flushNoted();
    // Meanwhile the message is deleted and the room unloads.
    expect(deleteMessage(room.doc, ANA, { id: message.id }).ok).toBe(true);
    s.unload(room);
    // Each round, everything started so far reaches the gate (the microtasks run out), then the newest goes through.
    for (;;) {
      await new Promise(setImmediate);
      const next = waiting.pop();
      if (!next) break;
      next();
    }
    await first;
    expect(s.tracker.idle).toBe(true);
    gated = false;
    expect(s.refRows(record.id)).toBe(0);
    // Released: collectable.
    expect((await s.sweep()).records).toBe(1);
  });

  it("removes blobs inside the nodes' shared lock (several nodes: an upload's last step on another node takes it too)", async () => {
    let held = 0;
    let inside = false;
    const deleted: boolean[] = [];
    const s = setup({
      clusterLock: async (fn) => {
        held++;
        inside = true;
        try {
          return await fn();
        } finally {
          inside = false;
        }
      },
    });
    const blobs = noBlobs as { delete: (key: string) => Promise<boolean> };
    const plain = blobs.delete;
    blobs.delete = async () => {
      deleted.push(inside);
      return false;
    };
    try {
      s.upload(uuidv4());
      expect(await s.sweep()).toEqual({ records: 1, blobs: 0 });
    } finally {
      blobs.delete = plain;
    }
    expect(held).toBe(1);
    expect(deleted).toEqual([true]);
  });

  it('close() resolves once what unloading documents left is written, so the database can close right after', async () => {
    const s = setup();
    const roomId = uuidv4();
    const room = s.load(new Y.Doc(), roomId);
    await checked(s, roomId);
    const record = s.upload(roomId);
    expect(createMessage(room.doc, ANA, { type: 'file', content: '', attachments: [refOf(record)] }).ok).toBe(true);
    s.unload(room);
    await s.tracker.close();
    db.close();
    db = openDatabase(path.join(tmp.dir, 'parley.db'));
    expect(db.prepare<[string], { n: number }>('SELECT count(*) AS n FROM attachment_refs WHERE attachment_id = ?').get(record.id)!.n).toBe(1);
  });
});

/** Something the test lets through: `wait()` (the code under test) resolves once `open()` ran; `asked` once something waits. */
function gate(): { wait: () => Promise<void>; asked: Promise<void>; open: () => void } {
  let open: () => void = () => {};
  const opened = new Promise<void>((resolve) => (open = resolve));
  let ask: () => void = () => {};
  const asked = new Promise<void>((resolve) => (ask = resolve));
  return {
    wait: () => {
      ask();
      return opened;
    },
    asked,
    open: () => open(),
  };
}

/** A transaction that runs `fn`, rolls it back, and runs it again, as PostgreSQL's retry after a serialization failure does. */
function twice(repo: AsyncApi<AttachmentRepo>): AsyncApi<AttachmentRepo>['transaction'] {
  class Retry extends Error {}
  return async <R>(fn: (tx: AsyncApi<AttachmentRepo>) => Promise<R>): Promise<R> => {
    try {
      await repo.transaction(async (tx) => {
        await fn(tx);
        throw new Retry();
      });
    } catch (err) {
      if (!(err instanceof Retry)) throw err;
    }
    return repo.transaction(fn);
  };
}

/** What a stored document says about references, as the storage worker reads it. */
function refsOf(doc: Y.Doc, recorded: readonly string[]): Awaited<ReturnType<ReadStoredRefs>> {
  const maps = roomMaps(doc);
  const held: Array<{ id: string; attachmentIds: string[] }> = [];
  maps.messages.forEach((_value, id) => {
    const attachments = heldAttachments(maps, id);
    if (attachments.length > 0) held.push({ id, attachmentIds: attachments.map((a) => a.id) });
  });
  return { stateVector: Y.encodeStateVector(doc), held, present: recorded.filter((id) => maps.messages.has(id)) };
}

