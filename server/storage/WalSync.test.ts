import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { openDatabase } from './openDatabase.ts';
import { SqliteUpdateStore } from './SqliteUpdateStore.ts';
import { WalSync } from './WalSync.ts';
import { makeTempDir } from '../../test/support/tempDir.ts';

const tmp = makeTempDir();
afterAll(() => tmp.remove());

describe('WalSync with appends that commit without an fsync', () => {
  it('leaves the connection at FULL, and what it synced reads back after the database is reopened', async () => {
    const file = path.join(tmp.dir, 'wal-sync.db');
    const sync = new WalSync(file);
    // No WAL file yet: nothing to make durable.
    await sync.sync();
    const db = openDatabase(file, { synchronous: 'FULL' });
    const store = new SqliteUpdateStore(db, { fsyncOnAppend: false });
    store.append([{ roomId: 'r', update: Uint8Array.of(1, 2, 3) }]);
    expect(db.pragma('synchronous', { simple: true })).toBe(2);
    await sync.sync();
    store.append([{ roomId: 'r', update: Uint8Array.of(4) }]);
    sync.syncNow();
    sync.close();
    db.close();
    const again = openDatabase(file);
    expect(new SqliteUpdateStore(again).load('r').updates.map((u) => [...u])).toEqual([[1, 2, 3], [4]]);
    again.close();
  });
});
