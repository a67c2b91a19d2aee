import type { Browser, BrowserContext, Page } from 'playwright-core';
import { type ScrollRun, WAIT_MS, dropped, paintedAt, rowPresent, scrollBack, signIn } from '../load/webAppPage.ts';
import { buildWebAppIfStale, WEB_APP_OUT_DIR } from '../../scripts/build.ts';
import { launchChromium } from '../../test/support/chromium.ts';
import { type ChildServer, startChildServer, stopChildServer } from '../../test/support/childServer.ts';
import { makeTempDir } from '../../test/support/tempDir.ts';
import { messageCount } from '../../shared/roomDoc/queries.ts';
import { createRoom, devLogin } from '../load/parleyApi.ts';
import { SEED_AUTHOR, seedHistory, seedStorage } from '../load/seed.ts';
import type { Figure, RunOptions, Scenario } from '../scenario.ts';
import { median, quantile } from '../stats.ts';
import * as Y from 'yjs';

/*
 * The reference web app in Debian's Chromium (headless, software rendering), against a real
 * server in a child process holding one room with a seeded history.
 *
 * - Offline load: the app was visited once (service worker installed, room stored in IndexedDB);
 *   the network is cut and the page reloaded. Measured from navigation start to the app's
 *   `parley:room-painted` mark (newest messages painted, after one animation frame), for two room
 *   sizes: the list is windowed, so the figure should not grow ten-fold with the room.
 * - Scroll back: the message list scrolled up by a fixed step every animation frame until the
 *   message 1,000 places before the newest is in view; every frame interval is recorded.
 *   "Dropped" counts the 60 Hz frames that were missed (an interval of 50 ms missed two).
 */

/** Pixels per frame: a brisk flick (about 12,000 px/s), so 1,000 messages take a few seconds. */
const SCROLL_STEP_PX = 200;
const SCROLL_BACK = 1_000;

interface Sizes {
  readonly rooms: readonly number[];
  readonly loads: number;
  readonly scrolls: number;
}
const QUICK: Sizes = { rooms: [1_000, 10_000], loads: 3, scrolls: 1 };
const FULL: Sizes = { rooms: [1_000, 10_000], loads: 10, scrolls: 3 };

interface ServedRoom {
  readonly server: ChildServer;
  readonly roomId: string;
  readonly newestId: string;
  readonly targetId: string;
  /** Whether the room is long enough to scroll back SCROLL_BACK messages. */
  readonly scrolls: boolean;
  readonly dir: { remove(): void };
}

/** A stopped server is given the history in its storage, as seedStorage does for every peer. */
async function serveRoom(messages: number): Promise<ServedRoom> {
  const dir = makeTempDir('parley-bench-webapp-');
  const args = ['--dev', '--port', '0', '--data-dir', dir.dir, '--app-dir', WEB_APP_OUT_DIR];
  let server = await startChildServer(args, { PARLEY_LOG_LEVEL: 'info' });
  const seed = seedHistory(messages);
  const ana = await devLogin(server.url, 'Ana', SEED_AUTHOR.userId);
  const ben = await devLogin(server.url, 'Ben');
  const roomId = await createRoom(server.url, ana.token, { type: 'group', name: 'Launch planning', members: [{ user_id: ben.userId }] });
  await stopChildServer(server);
  await seedStorage('parley', dir.dir, roomId, seed);
  server = await startChildServer(args, { PARLEY_LOG_LEVEL: 'info' });
  const ids = orderedIds(seed.update);
  if (ids.length !== messages) throw new Error(`seeded ${ids.length} messages, expected ${messages}`);
  return { server, roomId, newestId: ids[ids.length - 1]!, targetId: ids[Math.max(0, ids.length - 1 - SCROLL_BACK)]!, scrolls: messages > SCROLL_BACK, dir };
}

function orderedIds(update: Uint8Array): string[] {
  const doc = new Y.Doc();
  Y.applyUpdate(doc, update);
  const ids = [...doc.getMap('messages').keys()].sort();
  if (messageCount(doc) !== ids.length) throw new Error('seeded room has deleted or foreign entries');
  doc.destroy();
  return ids;
}

/**
 * First visit online: the service worker takes control, and the reader scrolls back to the
 * message the offline runs scroll to, so what they read is on the device. (The 10,000-message
 * room is converted into segments on this visit; a device stores the segments it has read.)
 */
async function firstVisit(context: BrowserContext, room: ServedRoom): Promise<Page> {
  const page = await context.newPage();
  await signIn(page, room.server.url, 'Ben');
  await page.goto(`${room.server.url}/#/rooms/${room.roomId}`);
  await rowPresent(page, room.newestId);
  await page.waitForFunction(() => navigator.serviceWorker.controller !== null, undefined, { timeout: WAIT_MS });
  if (room.scrolls) await scrollBack(page, room.targetId, SCROLL_STEP_PX);
  return page;
}

async function offlineLoads(page: Page, context: BrowserContext, room: ServedRoom, runs: number): Promise<number[]> {
  await context.setOffline(true);
  const times: number[] = [];
  for (let i = 0; i < runs; i++) {
    await page.reload();
    times.push(await paintedAt(page));
    await rowPresent(page, room.newestId);
  }
  return times;
}

async function measureRoom(browser: Browser, messages: number, sizes: Sizes): Promise<Figure[]> {
  const room = await serveRoom(messages);
  const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
  try {
    const page = await firstVisit(context, room);
    const loads = await offlineLoads(page, context, room, sizes.loads);
    const label = `${messages.toLocaleString('en-US')} messages`;
    const figures: Figure[] = [
      { metric: `offline load to newest painted, ${label}, median`, value: median(loads), unit: 'ms', better: 'lower', note: `${loads.length} reloads` },
      { metric: `offline load to newest painted, ${label}, max`, value: Math.max(...loads), unit: 'ms', better: 'lower', note: `${loads.length} reloads` },
    ];
    if (room.scrolls) {
      const runs: ScrollRun[] = [];
      for (let i = 0; i < sizes.scrolls; i++) {
        await page.reload();
        await paintedAt(page);
        runs.push(await scrollBack(page, room.targetId, SCROLL_STEP_PX));
      }
      const intervals = runs.flatMap((r) => r.intervals);
      const missed = dropped(intervals);
      const note = `${label}, ${runs.length} run(s), ${intervals.length} frames, ${SCROLL_STEP_PX} px per frame`;
      figures.push(
        { metric: `scroll back 1,000 messages: frame interval p50`, value: median(intervals), unit: 'ms', better: 'lower', note },
        { metric: `scroll back 1,000 messages: frame interval p95`, value: quantile(intervals, 0.95), unit: 'ms', better: 'lower', note },
        { metric: `scroll back 1,000 messages: longest frame`, value: Math.max(...intervals), unit: 'ms', better: 'lower', note },
        { metric: `scroll back 1,000 messages: dropped frames`, value: (100 * missed) / (intervals.length + missed), unit: '%', better: 'lower', note: `${missed} of ${intervals.length + missed} frames at 60 Hz; ${runs.reduce((s, r) => s + r.longTasks, 0)} long tasks` },
        { metric: `scroll back 1,000 messages: rows in the DOM at the end`, value: Math.max(...runs.map((r) => r.rows)), unit: 'rows', better: 'lower', note: label },
      );
    }
    return figures;
  } finally {
    await context.close();
    await stopChildServer(room.server);
    room.dir.remove();
  }
}

const webAppLoad: Scenario = {
  name: 'webAppLoad',
  description: 'the web app in headless Chromium: offline load to newest messages painted, and scrolling back 1,000 messages',
  async run(opts: RunOptions): Promise<Figure[]> {
    const sizes = opts.quick ? QUICK : FULL;
    await buildWebAppIfStale();
    const browser = await launchChromium();
    try {
      const figures: Figure[] = [];
      for (const messages of sizes.rooms) figures.push(...(await measureRoom(browser, messages, sizes)));
      return figures;
    } finally {
      await browser.close();
    }
  },
};

export default webAppLoad;
