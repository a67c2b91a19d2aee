import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import type { PeerName } from './peerServer.ts';
import { SqliteUpdateStore } from '../../server/storage/SqliteUpdateStore.ts';

/*
 * What a stopped server left on disk for one room: the room's own stored bytes where the format
 * lets us read them (Parley: its snapshot and log rows; Hocuspocus: its document row), and the
 * size of the storage files (for y-leveldb, which interleaves rooms in one store, only that).
 */

export interface Stored {
  /** Bytes of the room's data; null where the store has no per-room figure. */
  readonly roomBytes: number | null;
  /** Every file of the store (database, WAL, LevelDB files). */
  readonly fileBytes: number;
  readonly detail: string;
}

function sizeOf(path: string): number {
  if (!existsSync(path)) return 0;
  const stat = statSync(path);
  if (!stat.isDirectory()) return stat.size;
  return readdirSync(path).reduce((sum, name) => sum + sizeOf(join(path, name)), 0);
}

export function storedBytes(peer: PeerName, dataDir: string, roomId: string): Stored | null {
  switch (peer) {
    case 'parley': {
      const file = join(dataDir, 'parley.db');
      const db = new Database(file, { readonly: true });
      try {
        const stats = new SqliteUpdateStore(db).stats(roomId);
        const row = { log: stats.bytes, rows: stats.updates, snapshot: stats.snapshotBytes };
        const fileBytes = sizeOf(file) + sizeOf(`${file}-wal`);
        return { roomBytes: row.log + row.snapshot, fileBytes, detail: `snapshot ${row.snapshot} B + log ${row.log} B in ${row.rows} rows` };
      } finally {
        db.close();
      }
    }
    case 'hocuspocus': {
      const file = join(dataDir, 'hocuspocus.db');
      const db = new Database(file, { readonly: true });
      try {
        const row = db.prepare<[string], { bytes: number }>('SELECT length(data) AS bytes FROM documents WHERE name = ?').get(roomId);
        return { roomBytes: row?.bytes ?? 0, fileBytes: sizeOf(file) + sizeOf(`${file}-wal`), detail: 'one row: the whole document' };
      } finally {
        db.close();
      }
    }
    case 'y-relay-leveldb':
      return { roomBytes: null, fileBytes: sizeOf(join(dataDir, 'leveldb')), detail: 'LevelDB directory (one room in it)' };
    case 'y-relay':
    case 'raw-ws':
      return null;
  }
}

/** Every storage file a server keeps in its data dir (0 for a server with none). */
export function storageFileBytes(peer: PeerName, dataDir: string): number {
  switch (peer) {
    case 'parley':
      return sizeOf(join(dataDir, 'parley.db')) + sizeOf(join(dataDir, 'parley.db-wal'));
    case 'hocuspocus':
      return sizeOf(join(dataDir, 'hocuspocus.db')) + sizeOf(join(dataDir, 'hocuspocus.db-wal'));
    case 'y-relay-leveldb':
      return sizeOf(join(dataDir, 'leveldb'));
    case 'y-relay':
    case 'raw-ws':
      return 0;
  }
}
