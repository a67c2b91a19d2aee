import { afterEach, beforeEach, describe, expect, test } from 'vitest';
import { setImmediate as nextTurn } from 'node:timers/promises';
import { openDatabase, type Db } from './openDatabase.ts';
import { HeldTransactionError, SqliteAsync } from './SqliteAsync.ts';
import { makeTempDir } from '../../test/support/tempDir.ts';

describe('SqliteAsync: asynchronous transactions on one SQLite connection', () => {
  let tmp: ReturnType<typeof makeTempDir>;
  let db: Db;
  let sqlite: SqliteAsync;
  const names = (): string[] => db.prepare('SELECT name FROM t ORDER BY rowid').pluck().all() as string[];
  const insert = (name: string): Promise<void> => sqlite.call(() => void db.prepare('INSERT INTO t (name) VALUES (?)').run(name));

  beforeEach(() => {
    tmp = makeTempDir();
    db = openDatabase(`${tmp.dir}/a.db`);
    db.exec('CREATE TABLE t (name TEXT NOT NULL)');
    sqlite = new SqliteAsync(db);
  });
  afterEach(() => {
    db.close();
    tmp.remove();
  });

  test('commits what the function wrote when it resolves, rolls all of it back when it throws', async () => {
    await sqlite.transaction(async () => {
      await insert('a');
      await insert('b');
    });
    await expect(
      sqlite.transaction(async () => {
        await insert('c');
        throw new Error('no');
      }),
    ).rejects.toThrow('no');
    expect(names()).toEqual(['a', 'b']);
    expect(db.inTransaction).toBe(false);
  });

  test('a nested transaction is a savepoint: its failure undoes its own writes only', async () => {
    await sqlite.transaction(async () => {
      await insert('outer');
      await expect(
        sqlite.transaction(async () => {
          await insert('inner');
          throw new Error('inner fails');
        }),
      ).rejects.toThrow('inner fails');
      await insert('after');
    });
    expect(names()).toEqual(['outer', 'after']);
  });

  test("a call from another context waits for the open transaction, so that transaction's rollback cannot undo it", async () => {
    let release = (): void => {};
    // A chain begun outside the transaction, which goes on while it is open.
    const outside = new Promise<void>((resolve) => (release = resolve)).then(() => insert('outside'));
    await expect(
      sqlite.transaction(async () => {
        await insert('inside');
        release();
        // Let the other chain run as far as it can before this transaction ends.
        for (let i = 0; i < 10; i++) await Promise.resolve();
        throw new Error('rolled back');
      }),
    ).rejects.toThrow('rolled back');
    await outside;
    expect(names()).toEqual(['outside']);
  });

  test('transactions from two contexts run one after the other', async () => {
    const order: string[] = [];
    const one = sqlite.transaction(async () => {
      order.push('one begins');
      await insert('1');
      order.push('one ends');
    });
    const two = sqlite.transaction(async () => {
      order.push('two begins');
      await insert('2');
      order.push('two ends');
    });
    await Promise.all([one, two]);
    expect(order).toEqual(['one begins', 'one ends', 'two begins', 'two ends']);
    expect(names()).toEqual(['1', '2']);
  });

  test('a function that waits for the event loop is rolled back with HeldTransactionError', async () => {
    await expect(
      sqlite.transaction(async () => {
        await insert('held');
        await nextTurn();
      }),
    ).rejects.toBeInstanceOf(HeldTransactionError);
    expect(names()).toEqual([]);
    expect(db.inTransaction).toBe(false);
    await sqlite.transaction(() => insert('next'));
    expect(names()).toEqual(['next']);
  });
});
