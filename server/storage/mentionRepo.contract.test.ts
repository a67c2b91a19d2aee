import { describe, expect, test } from 'vitest';
import { uuidv4, uuidv7 } from '../../shared/ids.ts';
import { MentionRepo, type MentionRow } from './MentionRepo.ts';
import { openPostgres } from './pg/openPostgres.ts';
import { PgMentionRepo } from './pg/PgMentionRepo.ts';
import { repoBackends } from '../../test/support/repoBackends.ts';

const { backends, postgresOnly } = repoBackends<MentionRepo | PgMentionRepo>('MentionRepo', {
  sqlite: (db) => new MentionRepo(db),
  postgres: (pool) => new PgMentionRepo(pool),
});

const room = uuidv4();
const otherRoom = uuidv4();
/** Message ids in creation order (UUIDv7: their text order). */
const [m1, m2, m3, m4, m5] = Array.from({ length: 5 }, (_, i) => uuidv7(1_700_000_000_000 + i)) as [string, string, string, string, string];
const of = (userId: string, ...messageIds: string[]): MentionRow[] => messageIds.map((messageId) => ({ userId, messageId }));
/** Ana's mentions outside segment `except`, after `after` ('' for all), uncapped in practice. */
const count = (mentions: MentionRepo | PgMentionRepo, after = '', except = -1, cap = 100, roomId = room, userId = 'ana'): Promise<number> | number =>
  mentions.countAfter(roomId, userId, after, except, cap);

describe.each(backends)('mention contract: $name', ({ open, runs }) => {
  const it = runs ? test : test.skip;

  it('replaceSegment: the segment holds exactly the rows given, other segments and rooms keep theirs', async () => {
    const mentions = await open();
    await mentions.replaceSegment(room, 0, [...of('ana', m1, m2), ...of('bo', m1)]);
    await mentions.replaceSegment(room, 1, of('ana', m3));
    await mentions.replaceSegment(otherRoom, 0, of('ana', m4));
    expect(await count(mentions)).toBe(3);
    await mentions.replaceSegment(room, 0, of('ana', m2));
    expect(await count(mentions)).toBe(2);
    expect(await count(mentions, '', -1, 100, room, 'bo')).toBe(0);
    await mentions.replaceSegment(room, 1, []);
    expect(await count(mentions)).toBe(1);
    expect(await count(mentions, '', -1, 100, otherRoom)).toBe(1);
  });

  it('update: adds and removes rows of one segment; nothing to do is nothing done', async () => {
    const mentions = await open();
    await mentions.update(room, 0, of('ana', m1, m2, m2), []);
    expect(await count(mentions)).toBe(2);
    await mentions.update(room, 0, of('ana', m3), of('ana', m1));
    expect(await count(mentions)).toBe(2);
    expect(await count(mentions, m2)).toBe(1);
    await mentions.update(room, 0, [], []);
    // Removed and added again in one update: it stays.
    await mentions.update(room, 0, of('ana', m3), of('ana', m3));
    expect(await count(mentions, m2)).toBe(1);
  });

  it('a message moved to another segment keeps its row there, whichever segment is written first', async () => {
    const mentions = await open();
    await mentions.replaceSegment(room, 0, of('ana', m1, m2));
    // The new segment first: its row takes the message over; the old segment's removal leaves it.
    await mentions.update(room, 1, of('ana', m1), []);
    await mentions.update(room, 0, [], of('ana', m1));
    expect(await count(mentions)).toBe(2);
    expect(await count(mentions, '', 0)).toBe(1);
    expect(await count(mentions, '', 1)).toBe(1);
    // The old segment first: removed, then added under the new one.
    await mentions.update(room, 0, [], of('ana', m2));
    await mentions.update(room, 2, of('ana', m2), []);
    expect(await count(mentions, '', 0)).toBe(2);
    expect(await count(mentions, '', 2)).toBe(1);
    // Replacing the old segment drops nothing that moved away.
    await mentions.replaceSegment(room, 0, []);
    expect(await count(mentions)).toBe(2);
  });

  it('countAfter: strictly after the message id, outside one segment, for one user and room, up to the cap', async () => {
    const mentions = await open();
    await mentions.replaceSegment(room, 0, of('ana', m1, m2));
    await mentions.replaceSegment(room, 1, [...of('ana', m3, m4, m5), ...of('bo', m5)]);
    expect(await count(mentions)).toBe(5);
    expect(await count(mentions, m2)).toBe(3);
    expect(await count(mentions, m5)).toBe(0);
    expect(await count(mentions, '', 1)).toBe(2);
    expect(await count(mentions, m1, 0)).toBe(3);
    expect(await count(mentions, '', -1, 4)).toBe(4);
    expect(await count(mentions, '', -1, 0)).toBe(0);
    expect(await count(mentions, '', -1, 100, room, 'bo')).toBe(1);
    expect(await count(mentions, '', -1, 100, otherRoom)).toBe(0);
  });
});

describe(postgresOnly.name, () => {
  const it = postgresOnly.runs ? test : test.skip;

  it('message ids compare byte by byte, as in SQLite, whatever the database’s collation', async () => {
    const postgres = await postgresOnly.open();
    // A database whose default collation sorts 'a0' before 'B0' (ICU English); bytes sort 'B' (0x42) first.
    const name = `icu_${process.pid}_${Date.now()}`;
    await postgres.pool.query(`CREATE DATABASE ${name} TEMPLATE template0 LOCALE_PROVIDER icu ICU_LOCALE 'en-US' LOCALE 'C'`);
    const pool = await openPostgres(postgres.url.replace(/\/[^/]+$/, `/${name}`));
    try {
      const { rows } = await pool.query<{ before: boolean }>(`SELECT 'a0' < 'B0' AS before`);
      expect(rows[0]?.before).toBe(true);
      const icu = new PgMentionRepo(pool);
      await icu.replaceSegment(room, 0, of('ana', 'B0', 'b0'));
      expect(await icu.countAfter(room, 'ana', 'a0', 1, 100)).toBe(1);
    } finally {
      await pool.end();
    }
  });
});
