import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import * as Y from 'yjs';
import { FencedOutError } from '../FencedOutError.ts';
import { uuidv4 } from '../../../shared/ids.ts';
import { openPostgres } from './openPostgres.ts';
import { PgUpdateStore } from './PgUpdateStore.ts';
import { postgresSuiteName, postgresTestsRun, startPostgres, type ThrowawayPostgres } from '../../../test/support/postgres.ts';

const it = postgresTestsRun() ? test : test.skip;

function messageUpdate(doc: Y.Doc, id: string): Uint8Array {
  const before = Y.encodeStateVector(doc);
  doc.getMap<string>('messages').set(id, `text of ${id}`);
  return Y.encodeStateAsUpdate(doc, before);
}

const messagesOf = async (store: PgUpdateStore, docName: string): Promise<string[]> => {
  const stored = await store.load(docName);
  const doc = new Y.Doc();
  if (stored.snapshot) Y.applyUpdate(doc, stored.snapshot);
  for (const update of stored.updates) Y.applyUpdate(doc, update);
  return [...doc.getMap('messages').keys()].sort();
};

describe(postgresSuiteName('PgUpdateStore fencing (a real PostgreSQL)'), () => {
  let postgres: ThrowawayPostgres | undefined;
  beforeAll(async () => {
    if (postgresTestsRun()) postgres = await startPostgres();
  }, 60_000);
  afterAll(() => postgres?.stop());

  /** Two nodes' stores on one fresh database. */
  async function twoNodes() {
    if (!postgres) throw new Error('PostgreSQL did not start');
    const url = await postgres.createDatabase();
    const pools = [await openPostgres(url), await openPostgres(url)];
    const [a, b] = pools.map((pool) => new PgUpdateStore(pool)) as [PgUpdateStore, PgUpdateStore];
    return { a, b, close: () => Promise.all(pools.map((pool) => pool.end())) };
  }

  it('a node deposed by a newer fence writes nothing more: appends and compactions are refused whole', async () => {
    const { a, b, close } = await twoNodes();
    try {
      const doc = new Y.Doc();
      const tokenA = await a.takeFence('room');
      await a.takeFence('other');
      const fencesA = new Map([
        ['room', tokenA],
        ['other', 1],
      ]);
      await a.append([{ roomId: 'room', update: messageUpdate(doc, 'm1') }], [{ roomId: 'room', clientId: 1, userId: 'ana' }], fencesA);

      // Node B takes the room over (A paused past its lease, say), then loads it.
      const tokenB = await b.takeFence('room');
      expect(tokenB).toBeGreaterThan(tokenA);
      expect(await messagesOf(b, 'room')).toEqual(['m1']);

      // A, resumed, still believes it owns the room: its batch (the room and another document) is refused whole.
      const otherDoc = new Y.Doc();
      const refused = a.append(
        [
          { roomId: 'other', update: messageUpdate(otherDoc, 'o1') },
          { roomId: 'room', update: messageUpdate(doc, 'm2') },
        ],
        [{ roomId: 'room', clientId: 99, userId: 'mallory' }],
        fencesA,
      );
      await expect(refused).rejects.toBeInstanceOf(FencedOutError);
      await expect(refused).rejects.toMatchObject({ roomIds: ['room'] });
      expect(await messagesOf(b, 'room')).toEqual(['m1']);
      expect(await messagesOf(b, 'other')).toEqual([]);
      expect((await b.load('room')).clientOwners).toEqual([[1, 'ana']]);
      await expect(a.compact('room', Y.encodeStateAsUpdate(doc), 10, fencesA)).rejects.toBeInstanceOf(FencedOutError);
      expect((await b.load('room')).snapshot).toBeNull();

      // The new owner writes with its own token.
      const docB = new Y.Doc();
      Y.applyUpdate(docB, Y.encodeStateAsUpdate(doc));
      await b.append([{ roomId: 'room', update: messageUpdate(docB, 'm3') }], [], new Map([['room', tokenB]]));
      expect(await messagesOf(a, 'room')).toEqual(['m1', 'm3']);
    } finally {
      await close();
    }
  });

  it("guards a room's segments with the room's token: a takeover of the room fences its segments too", async () => {
    const { a, b, close } = await twoNodes();
    try {
      const roomId = uuidv4();
      const tokenA = await a.takeFence(roomId);
      const doc = new Y.Doc();
      await a.append([{ roomId: `${roomId}:0`, update: messageUpdate(doc, 'in segment 0') }], [], new Map([[roomId, tokenA]]));
      await b.takeFence(roomId);
      const refused = a.append([{ roomId: `${roomId}:1`, update: messageUpdate(doc, 'in segment 1') }], [], new Map([[roomId, tokenA]]));
      await expect(refused).rejects.toMatchObject({ roomIds: [roomId] });
      expect(await messagesOf(b, `${roomId}:0`)).toEqual(['in segment 0']);
      expect(await messagesOf(b, `${roomId}:1`)).toEqual([]);
    } finally {
      await close();
    }
  });

  it('refuses a fenced write naming a document the node never took', async () => {
    const { a, close } = await twoNodes();
    try {
      await a.takeFence('room');
      const write = a.append([{ roomId: 'never-taken', update: messageUpdate(new Y.Doc(), 'x') }], [], new Map([['room', 1]]));
      await expect(write).rejects.toMatchObject({ roomIds: ['never-taken'] });
      expect(await messagesOf(a, 'never-taken')).toEqual([]);
    } finally {
      await close();
    }
  });

  it('a takeover waits for a commit in progress, so the new owner loads what that commit wrote', async () => {
    const { a, b, close } = await twoNodes();
    try {
      const token = await a.takeFence('room');
      const doc = new Y.Doc();
      // Both start at once: either the append commits first and B's load sees it, or the fence
      // moves first and the append is refused. Never an append stored after B loaded.
      const append = a.append([{ roomId: 'room', update: messageUpdate(doc, 'm1') }], [], new Map([['room', token]])).then(
        () => 'stored' as const,
        (error: unknown) => (error instanceof FencedOutError ? ('refused' as const) : Promise.reject(error)),
      );
      const loaded = b.takeFence('room').then(() => messagesOf(b, 'room'));
      const [outcome, seen] = await Promise.all([append, loaded]);
      expect(seen).toEqual(outcome === 'stored' ? ['m1'] : []);
      expect(await messagesOf(a, 'room')).toEqual(seen);
    } finally {
      await close();
    }
  });
});
