import type pg from 'pg';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import * as Y from 'yjs';
import { uuidv4 } from '../../../shared/ids.ts';
import { roomMaps } from '../../../shared/roomDoc/layout.ts';
import { createMessage } from '../../../shared/roomDoc/messageOps.ts';
import { attachmentRecord } from '../../../test/support/attachmentRecord.ts';
import { postgresSuiteName, postgresTestsRun, startPostgres, type ThrowawayPostgres } from '../../../test/support/postgres.ts';
import { type AttachmentRecord, refOf } from '../AttachmentRepo.ts';
import { MissingUploadsError } from '../MissingUploadsError.ts';
import { openPostgres } from './openPostgres.ts';
import { PgAttachmentRepo, RECENTLY_NAMED_MS } from './PgAttachmentRepo.ts';
import { PgUpdateStore } from './PgUpdateStore.ts';
import { CommitQueue, type CommitParticipant } from '../../sync/CommitQueue.ts';

const it = postgresTestsRun() ? test : test.skip;
const ANA = { userId: uuidv4(), role: 'member' as const };

/*
 * Garbage collection against commits on PostgreSQL (docs/scale-out.md, "Attachment garbage
 * collection"): the validator reads upload records ahead of a commit, and another node's tracker
 * writes a message's reference rows after it, so the commit itself marks what it names, and the
 * deletion and the commit are ordered by the record row's lock.
 */
describe(postgresSuiteName('uploads named by commits (a real PostgreSQL)'), () => {
  let postgres: ThrowawayPostgres | undefined;
  let pool: pg.Pool;
  let store: PgUpdateStore;
  let repo: PgAttachmentRepo;
  beforeAll(async () => {
    if (!postgresTestsRun()) return;
    postgres = await startPostgres();
    pool = await openPostgres(await postgres.createDatabase());
    store = new PgUpdateStore(pool);
    repo = new PgAttachmentRepo(pool);
  }, 60_000);
  afterAll(async () => {
    await pool?.end();
    await postgres?.stop();
  });

  async function upload(roomId: string): Promise<AttachmentRecord> {
    const record = attachmentRecord(roomId, ANA.userId);
    await repo.insert(record);
    return record;
  }

  /** An update adding a message that names `record`, and one adding a plain message. */
  function updates(record: AttachmentRecord): { naming: Uint8Array; plain: Uint8Array } {
    const doc = new Y.Doc();
    roomMaps(doc);
    const write = (fn: () => void): Uint8Array => {
      const before = Y.encodeStateVector(doc);
      fn();
      return Y.encodeStateAsUpdate(doc, before);
    };
    return {
      naming: write(() => expect(createMessage(doc, ANA, { type: 'file', content: '', attachments: [refOf(record)] }).ok).toBe(true)),
      plain: write(() => expect(createMessage(doc, ANA, { content: 'no file' }).ok).toBe(true)),
    };
  }

  const stored = async (docName: string): Promise<number> => (await store.load(docName)).updates.length;
  const exists = async (id: string): Promise<boolean> => (await pool.query('SELECT 1 FROM attachments WHERE id = $1', [id])).rows.length === 1;

  /** Until `n` sessions wait for a lock (the statements started block where the test holds one). */
  /** Resolves once `n` sessions of this database wait for a lock (queued behind the test's row lock). */
  async function waitingForLocks(n: number): Promise<void> {
    const waiting = async (): Promise<number> =>
      (await pool.query<{ n: number }>(`SELECT count(*)::int AS n FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND datname = current_database()`)).rows[0]?.n ?? 0;
    await expect.poll(waiting).toBeGreaterThanOrEqual(n);
  }

  it('a commit naming an upload whose record is gone is refused whole, naming the documents and uploads', async () => {
    const roomId = uuidv4();
    const record = await upload(roomId);
    const { naming, plain } = updates(record);
    await pool.query('DELETE FROM attachments WHERE id = $1', [record.id]);
    const other = uuidv4();
    const refused = store.append([
      { roomId, update: naming },
      { roomId: other, update: plain },
    ]);
    await expect(refused).rejects.toBeInstanceOf(MissingUploadsError);
    const error = (await refused.catch((e: unknown) => e)) as MissingUploadsError;
    expect(error.docNames).toEqual([roomId]);
    expect(error.attachmentIds).toEqual([record.id]);
    expect(await stored(roomId)).toBe(0);
    expect(await stored(other)).toBe(0);
  });

  it("the group commit fails only the documents that named a missing upload, writes the others, and has the upload's cached record forgotten", async () => {
    const forgotten: string[] = [];
    const queue = new CommitQueue(store, undefined, { onMissingUploads: (ids) => forgotten.push(...ids) });
    const roomId = uuidv4();
    const other = uuidv4();
    const record = await upload(roomId);
    const { naming, plain } = updates(record);
    await pool.query('DELETE FROM attachments WHERE id = $1', [record.id]);
    const outcomes = new Map<string, Promise<unknown>>();
    const participant = (docName: string, update: Uint8Array): CommitParticipant => {
      const pending = [update];
      let settle: (outcome: unknown) => void = () => {};
      outcomes.set(docName, new Promise((resolve) => (settle = resolve)));
      return { roomId: docName, takePending: () => ({ updates: pending.splice(0), bindings: [] }), committed: () => settle('committed'), commitFailed: (error) => settle(error) };
    };
    queue.schedule(participant(roomId, naming));
    queue.schedule(participant(other, plain));
    queue.flush();
    expect(await outcomes.get(roomId)).toBeInstanceOf(MissingUploadsError);
    expect(await outcomes.get(other)).toBe('committed');
    expect(forgotten).toEqual([record.id]);
    expect(await stored(roomId)).toBe(0);
    expect(await stored(other)).toBe(1);
  });

  it('keeps an upload a commit named recently though no reference row holds it yet; deletes it once that is long past', async () => {
    const roomId = uuidv4();
    const record = await upload(roomId);
    await store.append([{ roomId, update: updates(record).naming }]);
    expect(await stored(roomId)).toBe(1);
    // The tracker has not written the message's row (it does so up to 100 ms later, on whichever node owns the room).
    expect(await repo.deleteIfUnheld(record.id)).toBe(false);
    expect(await exists(record.id)).toBe(true);
    await pool.query('UPDATE attachments SET named_at = named_at - $2 - 1 WHERE id = $1', [record.id, RECENTLY_NAMED_MS]);
    expect(await repo.deleteIfUnheld(record.id)).toBe(true);
  });

  it('a deletion and a commit of the same upload at the same moment: the commit first keeps the upload; the deletion first refuses the commit', async () => {
    for (const first of ['commit', 'deletion'] as const) {
      const roomId = uuidv4();
      const record = await upload(roomId);
      // The test holds the record's row, so both statements queue behind it in the order they start.
      const holder = await pool.connect();
      try {
        await holder.query('BEGIN');
        await holder.query('SELECT 1 FROM attachments WHERE id = $1 FOR UPDATE', [record.id]);
        const commit = (): Promise<unknown> => store.append([{ roomId, update: updates(record).naming }]).then(
          () => 'stored',
          (e: unknown) => e,
        );
        const deletion = (): Promise<boolean> => repo.deleteIfUnheld(record.id);
        let committed: Promise<unknown>;
        let deleted: Promise<boolean>;
        if (first === 'commit') {
          committed = commit();
          await waitingForLocks(1);
          deleted = deletion();
          await waitingForLocks(2);
        } else {
          deleted = deletion();
          await waitingForLocks(1);
          committed = commit();
          await waitingForLocks(2);
        }
        await holder.query('COMMIT');
        if (first === 'commit') {
          expect(await committed).toBe('stored');
          expect(await deleted).toBe(false);
          expect(await exists(record.id)).toBe(true);
          expect(await stored(roomId)).toBe(1);
        } else {
          expect(await deleted).toBe(true);
          expect(await committed).toBeInstanceOf(MissingUploadsError);
          expect(await exists(record.id)).toBe(false);
          expect(await stored(roomId)).toBe(0);
        }
      } finally {
        // A failed assertion leaves the holder's transaction open: rolled back before it goes back to the pool.
        await holder.query('ROLLBACK').catch(() => {});
        holder.release();
      }
    }
  });
});
