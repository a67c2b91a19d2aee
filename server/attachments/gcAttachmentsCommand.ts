import path from 'node:path';
import { parseArgs } from 'node:util';
import { ConfigError, attachmentSettingsFromEnv, offlineDatabase } from '../config.ts';
import { createLogger } from '../log.ts';
import { FsBlobStore } from '../blobs/FsBlobStore.ts';
import { openDatabase } from '../storage/openDatabase.ts';
import { AttachmentRepo } from '../storage/AttachmentRepo.ts';
import { SqliteUpdateStore } from '../storage/SqliteUpdateStore.ts';
import { Attachments, GC_BATCH } from './Attachments.ts';
import { StoredReferenceScan } from './StoredReferenceScan.ts';
import { directStoredRefs } from './ReadStoredRefs.ts';
import { storedReferences } from './referenceChecks.ts';
import { SqliteAsync, sqliteAsync } from '../storage/SqliteAsync.ts';

export const GC_ATTACHMENTS_USAGE = `Usage: parley gc-attachments [--data-dir DIR]
  Removes attachments whose messages were all deleted, uploads no message used within
  PARLEY_ATTACHMENT_GRACE_MS, and blobs no upload names (stop the server first).
  --data-dir DIR    directory of the SQLite file and blobs/ (env PARLEY_DATA_DIR, default ./data)`;

/**
 * `parley gc-attachments`: the garbage collection the server runs on a timer, by hand, plus the
 * blobs no record names (a crash between storing an upload and recording it), which only a
 * stopped server can tell apart from uploads in progress. References are as the server last
 * wrote them, brought up to the stored documents of every room an upload would go from (the
 * server's last rows may have been lost to a crash): no document is loaded, so each is read here.
 * Returns the exit code (2: bad usage).
 */
export async function runGcAttachmentsCommand(argv: readonly string[], env: NodeJS.ProcessEnv, out: { log: (line: string) => void; error: (line: string) => void }): Promise<number> {
  let flags;
  let settings;
  try {
    flags = parseArgs({ args: [...argv], options: { 'data-dir': { type: 'string' }, help: { type: 'boolean' } }, strict: true, allowPositionals: false }).values;
    settings = attachmentSettingsFromEnv(env);
  } catch (err) {
    out.error(`${(err as Error).message}\n${err instanceof ConfigError ? '' : GC_ATTACHMENTS_USAGE}`);
    return 2;
  }
  if (flags.help) {
    out.log(GC_ATTACHMENTS_USAGE);
    return 0;
  }
  const { dataDir, file, exists } = offlineDatabase(flags['data-dir'], env);
  if (!exists) {
    out.error(`no database at ${file}`);
    return 2;
  }
  const db = openDatabase(file);
  try {
    const blobs = FsBlobStore.open(path.join(dataDir, 'blobs'));
    const repo = sqliteAsync(new AttachmentRepo(db), new SqliteAsync(db));
    const store = new SqliteUpdateStore(db);
    const logger = createLogger('silent');
    const attachments = new Attachments({ repo, blobs: () => blobs, settings, logger });
    const scan = new StoredReferenceScan({ repo, docNamesOf: (roomId) => store.docNamesOf(roomId), read: directStoredRefs(store), isLoaded: () => false, logger });
    const references = storedReferences(repo, scan);
    let records = 0;
    let removed = 0;
    for (;;) {
      const pass = await attachments.collect(references);
      records += pass.records;
      removed += pass.blobs;
      if (pass.records < GC_BATCH) break;
    }
    const orphans = await attachments.collectOrphanBlobs();
    out.log(`removed ${records} attachments, ${removed} of their blobs and ${orphans} blobs no attachment named`);
    return 0;
  } finally {
    db.close();
  }
}
