import fs from 'node:fs';
import path from 'node:path';
import pino from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import * as Y from 'yjs';
import { makeTempDir } from '../../test/support/tempDir.ts';
import { SearchWorker } from './SearchWorker.ts';

/*
 * The search index's thread on its own: writes applied in order before any later request, what
 * it answers for a loaded document, and a thread that cannot open its file failing each request
 * with an error instead of taking the process down.
 */
const ROOM = '0193f5d2-1111-7000-8000-000000000001';
const entry = (messageId: string, content: string) => ({ roomId: ROOM, messageId, senderId: null, createdAt: 1, content });
const word = (text: string) => ({ text, phrase: false, prefix: false });

let tmp: ReturnType<typeof makeTempDir>;
let worker: SearchWorker | null = null;
afterEach(async () => {
  await worker?.close();
  worker = null;
  tmp.remove();
});

function open(): SearchWorker {
  tmp = makeTempDir('parley-search-worker-');
  worker = new SearchWorker({ backend: 'sqlite', file: path.join(tmp.dir, 'parley.search.db') }, pino({ level: 'silent' }));
  return worker;
}

describe('SearchWorker', () => {
  it('answers a search after every write sent before it, unawaited ones included', async () => {
    const index = open();
    void index.write([{ op: 'put', docName: ROOM, entry: entry('m1', 'apricot jam') }]);
    void index.write([{ op: 'put', docName: ROOM, entry: entry('m2', 'apricot tart') }, { op: 'drop', messageId: 'm1' }]);
    const hits = await index.search({ terms: [word('apricot')], roomIds: [ROOM], limit: 10, offset: 0 });
    expect(hits.map((h) => h.messageId)).toEqual(['m2']);
    expect(await index.search({ terms: [word('apricot')], roomIds: ['another room'], limit: 10, offset: 0 })).toEqual([]);
    expect(await index.search({ terms: [word('apricot')], roomIds: [], limit: 10, offset: 0 })).toEqual([]);
  });

  it('tells a loaded document whether the index holds it as it is, and which documents it never held', async () => {
    const index = open();
    const doc = new Y.Doc();
    doc.getMap('m').set('k', 1);
    const before = Y.encodeStateVector(doc);
    await index.write([
      { op: 'put', docName: ROOM, entry: entry('m1', 'one') },
      { op: 'record', docName: ROOM, stateVector: before },
    ]);
    expect(await index.check(ROOM, before)).toBeNull();
    doc.getMap('m').set('k', 2);
    expect(await index.check(ROOM, Y.encodeStateVector(doc))).toEqual(['m1']);
    expect(await index.unindexed([ROOM, 'other'])).toEqual(['other']);
    void index.write([{ op: 'forget', docName: ROOM }]);
    expect(await index.check(ROOM, before)).toEqual(['m1']);
  });

  it('rejects each request with an error when its file cannot be opened, pauses before starting the thread again, and closes', async () => {
    tmp = makeTempDir('parley-search-worker-');
    // A regular file where the index's directory should be: the thread fails as it opens the file.
    const blocker = path.join(tmp.dir, 'not-a-dir');
    fs.writeFileSync(blocker, '');
    worker = new SearchWorker({ backend: 'sqlite', file: path.join(blocker, 'parley.search.db') }, pino({ level: 'silent' }));
    await expect(worker.search({ terms: [word('x')], roomIds: [ROOM], limit: 1, offset: 0 })).rejects.toThrow();
    // Right after, no thread is started again: refused at once until the pause is over.
    await expect(worker.write([{ op: 'forget', docName: ROOM }])).rejects.toThrow(/unavailable/);
  });
});
