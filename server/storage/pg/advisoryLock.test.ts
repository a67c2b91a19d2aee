import type pg from 'pg';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { postgresSuiteName, postgresTestsRun, startPostgres, type ThrowawayPostgres } from '../../../test/support/postgres.ts';
import { advisoryLock } from './advisoryLock.ts';
import { openPostgres } from './openPostgres.ts';

const it = postgresTestsRun() ? test : test.skip;
const KEY = 4242;

/** Two nodes' pools on one database: what one holds the other waits for. */
describe(postgresSuiteName('advisoryLock (a real PostgreSQL)'), () => {
  let postgres: ThrowawayPostgres | undefined;
  let pools: [pg.Pool, pg.Pool];
  beforeAll(async () => {
    if (!postgresTestsRun()) return;
    postgres = await startPostgres();
    const url = await postgres.createDatabase();
    pools = [await openPostgres(url), await openPostgres(url, { migrate: false })];
  }, 60_000);
  afterAll(async () => {
    await Promise.all(pools?.map((pool) => pool.end()) ?? []);
    await postgres?.stop();
  });

  const waitingOnAdvisory = async (): Promise<number> =>
    (await pools[0].query<{ n: number }>(`SELECT count(*)::int AS n FROM pg_locks WHERE locktype = 'advisory' AND NOT granted`)).rows[0]?.n ?? 0;

  it('runs one holder at a time across pools, and frees the lock (keeping the connection) when the holder throws', async () => {
    const [onA, onB] = pools.map((pool) => advisoryLock(pool, KEY)) as [ReturnType<typeof advisoryLock>, ReturnType<typeof advisoryLock>];
    const order: string[] = [];
    let release: () => void = () => {};
    const held = new Promise<void>((resolve) => (release = resolve));
    let entered: () => void = () => {};
    const inside = new Promise<void>((resolve) => (entered = resolve));
    const first = onA(async () => {
      order.push('a in');
      entered();
      await held;
      order.push('a out');
    });
    await inside;
    const second = onB(async () => {
      order.push('b in');
    });
    // B's session waits on the lock while A holds it.
    await expect.poll(waitingOnAdvisory).toBe(1);
    expect(order).toEqual(['a in']);
    release();
    await Promise.all([first, second]);
    expect(order).toEqual(['a in', 'a out', 'b in']);

    // A holder that fails frees the lock, and its healthy connection goes back to the pool.
    const connections = pools[0].totalCount;
    await expect(onA(() => Promise.reject(new Error('the holder failed')))).rejects.toThrow('the holder failed');
    expect(pools[0].totalCount).toBe(connections);
    expect(await onB(async () => 'taken again')).toBe('taken again');
  });
});
