import { describe, expect, test } from 'vitest';
import { uuidv4 } from '../../shared/ids.ts';
import { FEED_ENTRIES_KEPT, FEED_PRUNE_EVERY, FeedRepo } from './FeedRepo.ts';
import { inTransaction } from './pg/openPostgres.ts';
import { PgFeedRepo } from './pg/PgFeedRepo.ts';
import { repoBackends, type PostgresDatabase } from '../../test/support/repoBackends.ts';

const { backends, postgresOnly } = repoBackends<FeedRepo | PgFeedRepo>('FeedRepo', {
  sqlite: (db) => new FeedRepo(db),
  postgres: (pool) => new PgFeedRepo(pool),
});

const roomA = uuidv4();
const roomB = uuidv4();
const roomC = uuidv4();

/** The changes as plain data: room -> whether its members changed (order aside: see the test of order). */
const rooms = (changes: { rooms: ReadonlyMap<string, { members: boolean }> } | null): Record<string, boolean> | null =>
  changes && Object.fromEntries([...changes.rooms].map(([room, { members }]) => [room, members]));

describe.each(backends)('feed contract: $name', ({ open, runs }) => {
  const it = runs ? test : test.skip;

  it('numbers each user’s entries from 1, one sequence per user; a user named twice is logged once', async () => {
    const feed = await open();
    expect(await feed.lastSeq('ana')).toBe(0);
    expect([...(await feed.append(roomA, ['ana', 'bo', 'ana'], false, 1_000))]).toEqual([
      ['ana', 1],
      ['bo', 1],
    ]);
    expect([...(await feed.append(roomB, ['cy', 'bo'], true, 1_001))]).toEqual([
      ['cy', 1],
      ['bo', 2],
    ]);
    expect([...(await feed.append(roomB, new Set<string>(), true, 1_002))]).toEqual([]);
    expect(await feed.lastSeq('ana')).toBe(1);
    expect(await feed.lastSeq('bo')).toBe(2);
    expect(await feed.lastSeq('cy')).toBe(1);
    expect(await feed.lastSeq('dee')).toBe(0);
  });

  it('changesSince: the rooms after a cursor, each once, members changed if any entry said so', async () => {
    const feed = await open();
    await feed.append(roomA, ['ana'], false, 1); // 1
    await feed.append(roomB, ['ana'], true, 2); // 2
    await feed.append(roomA, ['ana'], true, 3); // 3
    await feed.append(roomB, ['ana'], false, 4); // 4
    await feed.append(roomC, ['ana'], false, 5); // 5
    expect(rooms(await feed.changesSince('ana', 0))).toEqual({ [roomA]: true, [roomB]: true, [roomC]: false });
    expect(rooms(await feed.changesSince('ana', 3))).toEqual({ [roomB]: false, [roomC]: false });
    expect((await feed.changesSince('ana', 3))?.last).toBe(5);
    // Rooms come in the order of their first entry after the cursor.
    expect([...((await feed.changesSince('ana', 1))?.rooms.keys() ?? [])]).toEqual([roomB, roomA, roomC]);
  });

  it('changesSince at the newest number is empty; past it (a cursor from elsewhere) is null', async () => {
    const feed = await open();
    expect(await feed.changesSince('ana', 0)).toEqual({ rooms: new Map(), last: 0 });
    expect(await feed.changesSince('ana', 1)).toBeNull();
    await feed.append(roomA, ['ana', 'bo'], false, 1);
    expect(await feed.changesSince('ana', 1)).toEqual({ rooms: new Map(), last: 1 });
    expect(await feed.changesSince('ana', 2)).toBeNull();
    expect(await feed.changesSince('bo', 0)).toEqual({ rooms: new Map([[roomA, { members: false }]]), last: 1 });
  });

  it(`keeps the newest ${FEED_ENTRIES_KEPT} entries or more: a cursor before the oldest kept gets null (the whole list again)`, { timeout: 60_000 }, async () => {
    const feed = await open();
    const total = FEED_ENTRIES_KEPT + FEED_PRUNE_EVERY;
    for (let seq = 1; seq <= total; seq++) await feed.append(seq === total ? roomB : roomA, ['ana'], false, seq);
    // At FEED_ENTRIES_KEPT + FEED_PRUNE_EVERY, entries up to FEED_PRUNE_EVERY went: the oldest kept is the next.
    const oldest = FEED_PRUNE_EVERY + 1;
    expect(await feed.changesSince('ana', oldest - 2)).toBeNull();
    expect(rooms(await feed.changesSince('ana', oldest - 1))).toEqual({ [roomA]: false, [roomB]: false });
    expect(await feed.changesSince('ana', total - 1)).toEqual({ rooms: new Map([[roomB, { members: false }]]), last: total });
    expect(await feed.lastSeq('ana')).toBe(total);
  });
});

describe(postgresOnly.name, () => {
  const it = postgresOnly.runs ? test : test.skip;

  /** Two nodes' feeds on one fresh database. */
  async function twoNodes(): Promise<{ a: PgFeedRepo; b: PgFeedRepo; postgres: PostgresDatabase }> {
    const postgres = await postgresOnly.open();
    return { a: new PgFeedRepo(postgres.pool), b: new PgFeedRepo(await postgres.anotherNode()), postgres };
  }

  it('nodes appending for the same users at once: every user’s numbers are 1..n, each handed out once, in commit order', async () => {
    const { a, b } = await twoNodes();
    const users = ['u1', 'u2', 'u3', 'u4', 'u5'];
    const appends = Array.from({ length: 40 }, (_, i) => {
      // Overlapping sets in opposite orders: a lock taken in the callers' order would deadlock.
      const mine = i % 2 === 0 ? users.slice(i % 3) : [...users].reverse().slice(i % 2);
      return (i % 2 === 0 ? a : b).append(i % 3 === 0 ? roomA : roomB, mine, i % 4 === 0, i);
    });
    const results = await Promise.all(appends);
    for (const user of users) {
      const given = results.flatMap((seqs) => seqs.get(user) ?? []).sort((x, y) => x - y);
      expect(given).toEqual(Array.from({ length: given.length }, (_, i) => i + 1));
      expect(await a.lastSeq(user)).toBe(given.length);
      expect((await b.changesSince(user, 0))?.last).toBe(given.length);
    }
  });

  it('an append rolled back with the caller’s transaction gives its numbers back', async () => {
    const { a, postgres } = await twoNodes();
    await a.append(roomA, ['ana'], false, 1);
    const failed = inTransaction(postgres.pool, async (client) => {
      expect(await new PgFeedRepo(client).append(roomB, ['ana'], false, 2)).toEqual(new Map([['ana', 2]]));
      throw new Error('the caller failed');
    });
    await expect(failed).rejects.toThrow('the caller failed');
    expect(await a.lastSeq('ana')).toBe(1);
    expect(await a.append(roomC, ['ana'], false, 3)).toEqual(new Map([['ana', 2]]));
    expect(rooms(await a.changesSince('ana', 1))).toEqual({ [roomC]: false });
  });
});
