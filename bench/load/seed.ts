import { join } from 'node:path';
import Database from 'better-sqlite3';
import { LeveldbPersistence } from 'y-leveldb';
import * as Y from 'yjs';
import { openDatabase } from '../../server/storage/openDatabase.ts';
import { SqliteUpdateStore } from '../../server/storage/SqliteUpdateStore.ts';
import { SearchRepo } from '../../server/search/SearchRepo.ts';
import { openSearchDatabase, searchDbFileOf } from '../../server/search/openSearchDatabase.ts';
import type { Actor } from '../../shared/roomDoc/actor.ts';
import { createMessage } from '../../shared/roomDoc/messageOps.ts';
import type { PeerName } from './peerServer.ts';

/*
 * A large room's history, written once with createMessage by one member (one Yjs client id), and
 * put straight into each server's own storage while it is stopped, the way that server would hold
 * it: Parley through its UpdateStore (one logged update with its client id bound to its author, as
 * the sync path commits it), y-leveldb through LeveldbPersistence.storeUpdate,
 * Hocuspocus as the row its SQLite extension writes (the whole document). A server that keeps
 * nothing on disk (the reference relay without persistence) is given the history over the wire.
 */

export const SEED_AUTHOR: Actor = { userId: '5eed0000-0000-4000-8000-000000000001', role: 'member' };

export interface Seed {
  readonly messages: number;
  readonly update: Uint8Array;
  readonly clientId: number;
}

const cache = new Map<number, Seed>();

export function seedHistory(messages: number): Seed {
  const cached = cache.get(messages);
  if (cached) return cached;
  const doc = new Y.Doc();
  doc.transact(() => {
    for (let i = 0; i < messages; i++) {
      const result = createMessage(doc, SEED_AUTHOR, { content: `history message ${i} `.padEnd(80, '.') });
      if (!result.ok) throw new Error(`${result.code}: ${result.message}`);
    }
  });
  const seed = { messages, update: Y.encodeStateAsUpdate(doc), clientId: doc.clientID };
  doc.destroy();
  cache.set(messages, seed);
  return seed;
}

/** Writes the history into a stopped server's data dir. False for a server with no storage. */
export async function seedStorage(peer: PeerName, dataDir: string, roomId: string, seed: Seed): Promise<boolean> {
  switch (peer) {
    case 'parley': {
      const db = openDatabase(join(dataDir, 'parley.db'));
      const searchDb = openSearchDatabase(searchDbFileOf(join(dataDir, 'parley.db')));
      try {
        const store = new SqliteUpdateStore(db);
        // One logged update, as the sync path commits it; Parley compacts it itself when it unloads the room.
        store.append([{ roomId, update: seed.update }], [{ roomId, clientId: seed.clientId, userId: SEED_AUTHOR.userId }]);
        // Recorded as indexed (its text is not in the index): the one-time search backfill of an
        // upgraded database is not what the figures measure (docs/search.md, "Upgrading").
        new SearchRepo(searchDb).recordIndexed(roomId, Y.encodeStateVectorFromUpdate(seed.update));
      } finally {
        searchDb.close();
        db.close();
      }
      return true;
    }
    case 'y-relay-leveldb': {
      const ldb = new LeveldbPersistence(join(dataDir, 'leveldb'));
      await ldb.storeUpdate(roomId, seed.update);
      await ldb.destroy();
      return true;
    }
    case 'hocuspocus': {
      const db = new Database(join(dataDir, 'hocuspocus.db'));
      try {
        db.exec('CREATE TABLE IF NOT EXISTS "documents" ("name" varchar(255) NOT NULL, "data" blob NOT NULL, UNIQUE(name))');
        db.prepare('INSERT INTO "documents" ("name", "data") VALUES (?, ?)').run(roomId, Buffer.from(seed.update));
      } finally {
        db.close();
      }
      return true;
    }
    case 'y-relay':
    case 'raw-ws':
      return false;
  }
}

/** How long no more sync payload must arrive, once nearly all of it has, before the history counts as received. */
const QUIET_MS = 300;

/**
 * Resolves with the arrival time of the last frame of a whole history: once `expectedBytes` of
 * sync payload came in (98%: encodings of one state may differ by a few bytes) and nothing more
 * came for QUIET_MS. A server may send a large history as several frames (Parley cuts answers
 * into 1 MiB frames), so reaching the byte count alone can be one frame early. With `verify`, the
 * frames are kept and applied once quiet, and the watcher waits on until they hold it all.
 */
export function fullSyncWatcher(expectedBytes: number, verify?: (kept: readonly Uint8Array[]) => boolean) {
  let bytes = 0;
  let last = 0;
  let timer: ReturnType<typeof setTimeout> | undefined;
  let resolve: (at: number) => void = () => {};
  const done = new Promise<number>((r) => (resolve = r));
  const kept: Uint8Array[] = [];
  const settle = (): void => {
    if (!verify || verify(kept)) resolve(last);
  };
  return {
    done,
    kept,
    onUpdate(update: Uint8Array, at: number): void {
      bytes += update.byteLength;
      last = at;
      if (verify) kept.push(update);
      if (bytes < expectedBytes * 0.98) return;
      clearTimeout(timer);
      timer = setTimeout(settle, QUIET_MS);
    },
  };
}
