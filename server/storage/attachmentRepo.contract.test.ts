import type pg from 'pg';
import { describe, expect, test } from 'vitest';
import { uuidv4, uuidv7 } from '../../shared/ids.ts';
import { type AttachmentRecord, AttachmentRepo } from './AttachmentRepo.ts';
import { PgAttachmentRepo } from './pg/PgAttachmentRepo.ts';
import { repoBackends } from '../../test/support/repoBackends.ts';

/** The repository, and the transactions its callers run (server/attachments/Attachments.ts), on one backend. */
interface Harness {
  readonly repo: AttachmentRepo | PgAttachmentRepo;
  /** As an upload writes its record: in one transaction, refused when the uploader's usage would pass `quota`; `failAfter` thrown after the insert. */
  upload(record: AttachmentRecord, quota: number, failAfter?: Error): Promise<void>;
  /** As garbage collection removes records: in one transaction, those of `ids` no message holds; returns them. */
  collect(ids: readonly string[]): Promise<string[]>;
}

const overQuota = (): Error => new Error('over quota');

const pgHarness = (pool: pg.Pool): Harness => {
  const repo = new PgAttachmentRepo(pool);
  return {
    repo,
    upload: (record, quota, failAfter) =>
      repo.transaction(async (tx) => {
        if ((await tx.usageOf(record.uploaderId)) + record.size > quota) throw overQuota();
        await tx.insert(record);
        if (failAfter) throw failAfter;
      }),
    collect: (ids) =>
      repo.transaction(async (tx) => {
        const removed: string[] = [];
        for (const id of ids) if (await tx.deleteIfUnheld(id)) removed.push(id);
        return removed;
      }),
  };
};

const { backends, postgresOnly } = repoBackends<Harness>('AttachmentRepo', {
  sqlite: (db) => {
    const repo = new AttachmentRepo(db);
    return {
      repo,
      upload: async (record, quota, failAfter) =>
        repo.transaction(() => {
          if (repo.usageOf(record.uploaderId) + record.size > quota) throw overQuota();
          repo.insert(record);
          if (failAfter) throw failAfter;
        }),
      collect: async (ids) => repo.transaction(() => ids.filter((id) => repo.deleteIfUnheld(id))),
    };
  },
  postgres: pgHarness,
});

const room = uuidv4();
const otherRoom = uuidv4();
let made = 0;
/** A record of `room` by ana, created at `createdAt`; its blob key its own unless given. */
const record = (over: Partial<AttachmentRecord> = {}): AttachmentRecord => ({
  id: uuidv7(),
  roomId: room,
  uploaderId: 'ana',
  blobKey: `blob-${++made}`,
  name: 'notes.txt',
  mimeType: 'text/plain',
  size: 10,
  width: null,
  height: null,
  thumbnailKey: null,
  thumbnailType: null,
  createdAt: 1_000,
  ...over,
});
/** Every upload is collectable by then, unless held. */
const LATER = 1e12;
const collectable = async (h: Harness, releasedBefore = LATER, createdBefore = LATER, limit = 100): Promise<string[]> =>
  (await h.repo.collectable(releasedBefore, createdBefore, limit)).map((c) => c.id);

describe.each(backends)('attachment contract: $name', ({ open, runs }) => {
  const it = runs ? test : test.skip;

  it('insert and get a record (an image with its thumbnail, a plain file); usage is per uploader', async () => {
    const { repo } = await open();
    const image = record({ mimeType: 'image/png', size: 123_456, width: 640, height: 480, thumbnailKey: 'thumb-1', thumbnailType: 'image/png', createdAt: 5_000 });
    const file = record({ uploaderId: 'bo', size: 7 });
    await repo.insert(image);
    await repo.insert(file);
    expect(await repo.get(image.id)).toEqual(image);
    expect(await repo.get(file.id)).toEqual(file);
    expect(await repo.get(uuidv7())).toBeNull();
    await expect(Promise.resolve().then(() => repo.insert({ ...file, name: 'again' }))).rejects.toThrow();
    expect(await repo.usageOf('ana')).toBe(123_456);
    expect(await repo.usageOf('bo')).toBe(7);
    expect(await repo.usageOf('cy')).toBe(0);
  });

  it('setMessageRefs: rows for this room’s uploads only; a row marks the upload referenced; messagesOf lists the document’s messages', async () => {
    const h = await open();
    const [a, b, foreign] = [record(), record(), record({ roomId: otherRoom })];
    for (const r of [a, b, foreign]) await h.repo.insert(r);
    await h.repo.setMessageRefs(room, `${room}:0`, 'm1', [a.id, b.id, foreign.id, uuidv7()], 2_000);
    await h.repo.setMessageRefs(room, room, 'm2', [a.id], 2_000);
    expect((await h.repo.messagesOf(`${room}:0`)).sort()).toEqual(['m1']);
    expect((await h.repo.messagesOf(room)).sort()).toEqual(['m2']);
    expect(await h.repo.messagesOf(`${room}:1`)).toEqual([]);
    // Held ones are not collectable; the other room's upload, never referenced, is.
    expect(await collectable(h)).toEqual([foreign.id]);
    expect(await h.collect([a.id, b.id])).toEqual([]);
  });

  it('an upload is released when its last row goes, not before; referenced again, it is held again', async () => {
    const h = await open();
    const [a, b] = [record(), record()];
    for (const r of [a, b]) await h.repo.insert(r);
    await h.repo.setMessageRefs(room, room, 'm1', [a.id, b.id], 2_000);
    await h.repo.setMessageRefs(room, room, 'm2', [a.id], 2_000);
    // m1 now holds only a: b's last row goes, a keeps m2's.
    await h.repo.setMessageRefs(room, room, 'm1', [a.id], 3_000);
    expect(await collectable(h)).toEqual([b.id]);
    expect(await collectable(h, 2_999)).toEqual([]);
    await h.repo.dropMessageRefs(room, 'm1', 4_000, true);
    expect(await collectable(h)).toEqual([b.id]);
    await h.repo.dropMessageRefs(room, 'm2', 5_000, true);
    expect(await collectable(h)).toEqual([b.id, a.id]);
    expect(await collectable(h, 4_999)).toEqual([b.id]);
    // Named again (a deletion undone by a merge): held, and referenced since long ago, not collectable as never referenced.
    await h.repo.setMessageRefs(room, room, 'm3', [b.id], 6_000);
    expect(await collectable(h)).toEqual([a.id]);
    expect(await h.collect([a.id, b.id])).toEqual([a.id]);
    expect(await h.repo.get(a.id)).toBeNull();
    expect(await h.repo.get(b.id)).not.toBeNull();
  });

  it('dropMessageRefs: without anyDocument, only the rows the document wrote (a moved message keeps those of its new one)', async () => {
    const h = await open();
    const [a, b] = [record(), record()];
    for (const r of [a, b]) await h.repo.insert(r);
    await h.repo.setMessageRefs(room, `${room}:0`, 'm1', [a.id], 2_000);
    // The message moved to segment 1, which wrote its rows again (now naming segment 1).
    await h.repo.setMessageRefs(room, `${room}:1`, 'm1', [a.id, b.id], 2_500);
    await h.repo.dropMessageRefs(`${room}:0`, 'm1', 3_000, false);
    expect(await h.repo.messagesOf(`${room}:1`)).toEqual(['m1']);
    expect(await collectable(h)).toEqual([]);
    await h.repo.dropMessageRefs(`${room}:0`, 'm1', 4_000, true);
    expect(await h.repo.messagesOf(`${room}:1`)).toEqual([]);
    expect(await collectable(h)).toEqual([a.id, b.id].sort());
  });

  it('collectable: released by the cut-off, never-referenced past the grace, released ones first, at most `limit`', async () => {
    const h = await open();
    const fresh = record({ createdAt: 9_000 });
    const old = [record({ createdAt: 2_000 }), record({ createdAt: 1_000 })];
    const released = record({ createdAt: 500 });
    for (const r of [fresh, ...old, released]) await h.repo.insert(r);
    await h.repo.setMessageRefs(room, room, 'm1', [released.id], 600);
    await h.repo.dropMessageRefs(room, 'm1', 7_000, true);
    expect(await collectable(h, 7_000, 2_000)).toEqual([released.id, old[1]!.id, old[0]!.id]);
    expect(await collectable(h, 6_999, 1_999)).toEqual([old[1]!.id]);
    expect(await collectable(h, 7_000, 9_000, 2)).toEqual([released.id, old[1]!.id]);
    expect(await collectable(h, 7_000, 9_000, 0)).toEqual([]);
  });

  it('deleteIfUnheld and keyInUse: a record goes only while no message holds it; a blob key is in use while a record names it', async () => {
    const h = await open();
    const image = record({ blobKey: 'shared', thumbnailKey: 'thumb' });
    const copy = record({ blobKey: 'shared' });
    for (const r of [image, copy]) await h.repo.insert(r);
    await h.repo.setMessageRefs(room, room, 'm1', [image.id], 2_000);
    expect(await h.repo.deleteIfUnheld(image.id)).toBe(false);
    expect(await h.repo.deleteIfUnheld(copy.id)).toBe(true);
    expect(await h.repo.deleteIfUnheld(copy.id)).toBe(false);
    expect(await h.repo.keyInUse('shared')).toBe(true);
    expect(await h.repo.keyInUse('thumb')).toBe(true);
    expect(await h.repo.keyInUse('other')).toBe(false);
    await h.repo.dropMessageRefs(room, 'm1', 3_000, true);
    expect(await h.collect([image.id])).toEqual([image.id]);
    expect(await h.repo.keyInUse('shared')).toBe(false);
    expect(await h.repo.keyInUse('thumb')).toBe(false);
  });

  it('tracked states: recorded, replaced, forgotten, per document', async () => {
    const { repo } = await open();
    expect(await repo.trackedState(room)).toBeNull();
    await repo.recordTracked(room, new Uint8Array([1, 2, 3]));
    await repo.recordTracked(`${room}:0`, new Uint8Array([9]));
    await repo.recordTracked(room, new Uint8Array([4, 5]));
    expect(await repo.trackedState(room)).toEqual(new Uint8Array([4, 5]));
    await repo.forgetTracked(room);
    expect(await repo.trackedState(room)).toBeNull();
    expect(await repo.trackedState(`${room}:0`)).toEqual(new Uint8Array([9]));
  });

  it('transaction: an upload over the quota is refused, and a failure after the insert leaves no record', async () => {
    const h = await open();
    await h.upload(record({ size: 60 }), 100);
    await expect(h.upload(record({ size: 50 }), 100)).rejects.toThrow('over quota');
    const failed = record({ size: 40 });
    await expect(h.upload(failed, 100, new Error('then it failed'))).rejects.toThrow('then it failed');
    expect(await h.repo.get(failed.id)).toBeNull();
    expect(await h.repo.usageOf('ana')).toBe(60);
    await h.upload(record({ size: 40 }), 100);
    expect(await h.repo.usageOf('ana')).toBe(100);
  });
});

describe(postgresOnly.name, () => {
  const it = postgresOnly.runs ? test : test.skip;

  async function twoNodes(): Promise<[Harness, Harness, pg.Pool]> {
    const postgres = await postgresOnly.open();
    return [pgHarness(postgres.pool), pgHarness(await postgres.anotherNode()), postgres.pool];
  }

  it('uploads of one user on two nodes at once cannot both squeeze under the quota', async () => {
    const [a, b] = await twoNodes();
    const outcomes = await Promise.allSettled(Array.from({ length: 8 }, (_, i) => (i % 2 === 0 ? a : b).upload(record({ size: 30 }), 100)));
    expect(outcomes.filter((o) => o.status === 'fulfilled')).toHaveLength(3);
    expect(outcomes.filter((o) => o.status === 'rejected').map((o) => (o.status === 'rejected' ? String(o.reason) : ''))).toEqual(Array(5).fill('Error: over quota'));
    expect(await a.repo.usageOf('ana')).toBe(90);
  });

  it('the last two messages holding an upload deleted on two nodes at once: the upload is released', async () => {
    const [a, b] = await twoNodes();
    const uploads = Array.from({ length: 10 }, () => record());
    for (const r of uploads) await a.repo.insert(r);
    for (const r of uploads) {
      await a.repo.setMessageRefs(room, `${room}:0`, `m-${r.id}`, [r.id], 2_000);
      await b.repo.setMessageRefs(room, `${room}:1`, `n-${r.id}`, [r.id], 2_000);
    }
    await Promise.all(uploads.flatMap((r) => [a.repo.dropMessageRefs(`${room}:0`, `m-${r.id}`, 3_000, true), b.repo.dropMessageRefs(`${room}:1`, `n-${r.id}`, 3_000, true)]));
    expect((await collectable(a)).sort()).toEqual(uploads.map((r) => r.id).sort());
  });

  it('garbage collection on one node racing a new reference on another: a record goes only if no row names it', async () => {
    const [a, b, pool] = await twoNodes();
    const uploads = Array.from({ length: 10 }, () => record());
    for (const r of uploads) await a.repo.insert(r);
    const [removed] = await Promise.all([a.collect(uploads.map((r) => r.id)), Promise.all(uploads.map((r) => b.repo.setMessageRefs(room, room, `m-${r.id}`, [r.id], 2_000)))]);
    const { rows } = await pool.query<{ attachment_id: string }>('SELECT attachment_id FROM attachment_refs WHERE attachment_id NOT IN (SELECT id FROM attachments)');
    expect(rows).toEqual([]);
    for (const r of uploads) expect((await a.repo.get(r.id)) === null).toBe(removed.includes(r.id));
  });
});
