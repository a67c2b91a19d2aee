import { expect, it } from 'vitest';
import { seedSingleDocumentRoom } from '../support/seededRooms.ts';
import { createRoom, messageRow, newDevice, openRoom, signIn, UI_TIMEOUT, describeInBrowser } from './support/appPage.ts';

/** Past the SDK's 1 MiB compaction threshold once synced, and still one document (under a segment's 5,000). */
const COUNT = 3_000;
const text = (i: number): string => `note ${i} `.padEnd(400, 'lorem ipsum dolor sit amet ');

describeInBrowser('web app: compacting the device log in a worker', (suite) => {
  it('merges a 1.2 MB room log in the merge worker, and the merged snapshot reads back offline', async () => {
    const { server, browser } = suite;
    const ana = await server.login('Ana Lima');
    const ben = await server.login('Ben Okafor');
    const roomId = await createRoom(server, ana, 'long-notes', [ben]);
    await server.stop();
    const ids = seedSingleDocumentRoom(server, roomId, ana.id, COUNT, text);
    await server.restart();

    const b = await newDevice(browser, server);
    await signIn(b.page, 'Ben Okafor');
    await openRoom(b.page, roomId);
    await messageRow(b.page, `note ${COUNT - 1} `).waitFor();

    // The answer arrives in pieces, each one a log entry; past 1 MiB the SDK compacts them, and
    // the app hands the merge to its worker, so the device ends up with one snapshot row.
    await b.page.waitForFunction(
      async ([dbName, room]) => {
        const db = await new Promise<IDBDatabase>((resolve, reject) => {
          const open = indexedDB.open(dbName as string);
          open.onsuccess = () => resolve(open.result);
          open.onerror = () => reject(open.error);
        });
        try {
          const row = await new Promise<unknown>((resolve, reject) => {
            const get = db.transaction('snapshots').objectStore('snapshots').get(room as string);
            get.onsuccess = () => resolve(get.result);
            get.onerror = () => reject(get.error);
          });
          return row !== undefined;
        } finally {
          db.close();
        }
      },
      [`parley:${ben.id}`, roomId],
      { timeout: UI_TIMEOUT },
    );
    const workerScripts = await b.page.evaluate(() =>
      performance.getEntriesByType('resource').filter((e) => e.name.includes('mergeWorkerMain')).length,
    );
    expect(workerScripts).toBeGreaterThan(0);

    // Read back from the merged snapshot alone: offline, after a reload.
    await b.page.waitForFunction(() => navigator.serviceWorker.controller !== null, undefined, { timeout: UI_TIMEOUT });
    await b.context.setOffline(true);
    await b.page.reload();
    await openRoom(b.page, roomId);
    const newest = b.page.locator(`parley-message[data-message-id="${ids.at(-1) ?? ''}"]`);
    await newest.waitFor();
    expect(await newest.textContent()).toBeDefined();
    await messageRow(b.page, `note ${COUNT - 50} `).waitFor();
    await b.context.close();
  });
});
