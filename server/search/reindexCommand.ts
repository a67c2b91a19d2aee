import { parseArgs } from 'node:util';
import { offlineDatabase } from '../config.ts';
import { openDatabase } from '../storage/openDatabase.ts';
import { RoomIdSchema } from '../../shared/ids.ts';
import { reindexStored } from './reindexStored.ts';
import { openSearchDatabase, searchDbFileOf } from './openSearchDatabase.ts';

export const REINDEX_USAGE = `Usage: parley reindex [--room ID] [--data-dir DIR]
  Rebuilds the message search index from the stored room documents (stop the server first).
  --room ID         only this room (its head and every segment); default: every room
  --data-dir DIR    directory of the SQLite file (env PARLEY_DATA_DIR, default ./data)`;

/**
 * `parley reindex`: parses its flags, opens the database (migrating it, as the server would)
 * and rebuilds the index, printing a line per document. Returns the exit code (2: bad usage).
 */
export function runReindexCommand(argv: readonly string[], env: NodeJS.ProcessEnv, out: { log: (line: string) => void; error: (line: string) => void }): number {
  let flags;
  try {
    flags = parseArgs({ args: [...argv], options: { room: { type: 'string' }, 'data-dir': { type: 'string' }, help: { type: 'boolean' } }, strict: true, allowPositionals: false }).values;
  } catch (err) {
    out.error(`${(err as Error).message}\n${REINDEX_USAGE}`);
    return 2;
  }
  if (flags.help) {
    out.log(REINDEX_USAGE);
    return 0;
  }
  if (flags.room !== undefined && !RoomIdSchema.safeParse(flags.room).success) {
    out.error(`--room must be a room id (a UUID)\n${REINDEX_USAGE}`);
    return 2;
  }
  const { file, exists } = offlineDatabase(flags['data-dir'], env);
  if (!exists) {
    out.error(`no database at ${file}`);
    return 2;
  }
  const db = openDatabase(file);
  const searchDb = openSearchDatabase(searchDbFileOf(file));
  try {
    const started = performance.now();
    const outcome = reindexStored(db, searchDb, { ...(flags.room === undefined ? {} : { roomId: flags.room }), progress: out.log });
    out.log(`reindexed ${outcome.docs} documents, ${outcome.indexed} messages in ${Math.round(performance.now() - started)} ms`);
    return 0;
  } finally {
    searchDb.close();
    db.close();
  }
}
