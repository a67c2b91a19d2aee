import { describe, expect, test } from 'vitest';
import { uuidv4 } from '../../shared/ids.ts';
import { type NewOutboxEntry, OutboxRepo } from './OutboxRepo.ts';
import { PgOutboxRepo } from './pg/PgOutboxRepo.ts';
import { repoBackends } from '../../test/support/repoBackends.ts';

/** One write of a batch: a delivery done, or failed with the next attempt at `at`. */
type Outcome = { readonly remove: string } | { readonly retry: string; readonly attempts: number; readonly at: number };

const write = (outbox: OutboxRepo | PgOutboxRepo, outcome: Outcome): void | Promise<void> =>
  'remove' in outcome ? outbox.remove(outcome.remove) : outbox.retryAt(outcome.retry, outcome.attempts, outcome.at, 'HTTP 503');

interface Harness {
  readonly outbox: OutboxRepo | PgOutboxRepo;
  /** `outbox.batch` writing `outcomes`, then failing when `fail` is given (as the sender's turn does). */
  batch(outcomes: readonly Outcome[], fail?: Error): Promise<void>;
}

const { backends, postgresOnly } = repoBackends<Harness>('OutboxRepo', {
  sqlite: (db) => {
    const outbox = new OutboxRepo(db);
    return {
      outbox,
      batch: async (outcomes, fail) =>
        outbox.batch(() => {
          for (const outcome of outcomes) write(outbox, outcome);
          if (fail) throw fail;
        }),
    };
  },
  postgres: (pool) => {
    const outbox = new PgOutboxRepo(pool);
    return {
      outbox,
      batch: (outcomes, fail) =>
        outbox.batch(async (tx) => {
          for (const outcome of outcomes) await write(tx, outcome);
          if (fail) throw fail;
        }),
    };
  },
});

const entry = (messageId: string, userId: string, body = `{"for":"${userId}"}`): NewOutboxEntry => ({ id: uuidv4(), messageId, userId, body });
const ids = (entries: readonly { id: string }[]): string[] => entries.map((e) => e.id);

describe.each(backends)('outbox contract: $name', ({ open, runs }) => {
  const it = runs ? test : test.skip;

  it('add: once per (message, recipient) and per id, whatever is enqueued again; counts what it added', async () => {
    const { outbox } = await open();
    expect(await outbox.add([], 1)).toBe(0);
    const first = [entry('m1', 'ana'), entry('m1', 'bo'), entry('m2', 'ana')];
    expect(await outbox.add(first, 1_000)).toBe(3);
    // The same (message, recipient) under a new id, an id again, and a pair twice in one call.
    const again = [entry('m1', 'ana'), { ...entry('m3', 'cy'), id: first[1]!.id }, entry('m4', 'dee'), entry('m4', 'dee')];
    expect(await outbox.add(again, 2_000)).toBe(1);
    expect(await outbox.size()).toBe(4);
    expect(await outbox.nextDueAt()).toBe(1_000);
  });

  it('lease: due deliveries in due order (then enqueue order), at most `limit`, each taken once until its lease runs out', async () => {
    const { outbox } = await open();
    const early = [entry('m1', 'ana', 'a'), entry('m1', 'bo', 'b'), entry('m1', 'cy', 'c')];
    const late = [entry('m2', 'ana', 'd')];
    await outbox.add(late, 2_000);
    await outbox.add(early, 1_000);
    const later = entry('m3', 'ana');
    await outbox.add([later], 9_000);
    expect(await outbox.lease(500, 10, 10_500)).toEqual([]);
    expect(await outbox.lease(5_000, 2, 15_000)).toEqual([
      { id: early[0]!.id, body: 'a', attempts: 0 },
      { id: early[1]!.id, body: 'b', attempts: 0 },
    ]);
    expect(ids(await outbox.lease(5_000, 10, 15_000))).toEqual([early[2]!.id, late[0]!.id]);
    expect(await outbox.lease(5_000, 10, 15_000)).toEqual([]);
    expect(await outbox.nextDueAt()).toBe(9_000);
    // Leases run out: the crashed sender's deliveries are due again, in lease order, after the one due at 9 000.
    expect(ids(await outbox.lease(15_000, 10, 30_000))).toEqual(ids([later, ...early, ...late]));
    expect(await outbox.size()).toBe(5);
  });

  it('retryAt and remove: a failed attempt is due again later with its count, a delivered one is gone', async () => {
    const { outbox } = await open();
    const [a, b] = [entry('m1', 'ana'), entry('m1', 'bo')];
    await outbox.add([a, b], 1_000);
    await outbox.lease(1_000, 10, 20_000);
    await outbox.retryAt(a.id, 1, 3_000, 'x'.repeat(2_000));
    await outbox.remove(b.id);
    await outbox.remove(b.id);
    expect(await outbox.size()).toBe(1);
    expect(await outbox.nextDueAt()).toBe(3_000);
    expect(await outbox.lease(2_999, 10, 20_000)).toEqual([]);
    expect(await outbox.lease(3_000, 10, 20_000)).toEqual([{ id: a.id, body: a.body, attempts: 1 }]);
    await outbox.remove(a.id);
    expect(await outbox.size()).toBe(0);
    expect(await outbox.nextDueAt()).toBeNull();
  });

  it('batch: a turn’s outcomes are written together, or not at all', async () => {
    const h = await open();
    const [a, b, c] = [entry('m1', 'ana'), entry('m1', 'bo'), entry('m1', 'cy')];
    await h.outbox.add([a, b, c], 1_000);
    await expect(h.batch([{ remove: a.id }, { retry: b.id, attempts: 1, at: 5_000 }], new Error('the write failed'))).rejects.toThrow('the write failed');
    expect(await h.outbox.size()).toBe(3);
    expect(await h.outbox.nextDueAt()).toBe(1_000);
    await h.batch([{ remove: a.id }, { retry: b.id, attempts: 1, at: 5_000 }, { retry: c.id, attempts: 2, at: 4_000 }]);
    expect(await h.outbox.size()).toBe(2);
    expect(await h.outbox.lease(10_000, 10, 20_000)).toEqual([
      { id: c.id, body: c.body, attempts: 2 },
      { id: b.id, body: b.body, attempts: 1 },
    ]);
  });
});

describe(postgresOnly.name, () => {
  const it = postgresOnly.runs ? test : test.skip;

  it('nodes leasing at once never take the same delivery, and between them take every one due', async () => {
    const postgres = await postgresOnly.open();
    const nodes = [new PgOutboxRepo(postgres.pool), new PgOutboxRepo(await postgres.anotherNode())];
    const enqueued = Array.from({ length: 60 }, (_, i) => entry(`m${i % 7}`, `u${i}`));
    await nodes[0]!.add(enqueued, 1_000);
    const rounds = await Promise.all(Array.from({ length: 16 }, (_, i) => nodes[i % 2]!.lease(2_000, 5, 60_000)));
    const taken = rounds.flatMap(ids);
    expect(new Set(taken).size).toBe(taken.length);
    expect(taken.length).toBeGreaterThan(0);
    const rest = ids(await nodes[1]!.lease(2_000, 100, 60_000));
    expect([...taken, ...rest].sort()).toEqual(ids(enqueued).sort());
  });
});
