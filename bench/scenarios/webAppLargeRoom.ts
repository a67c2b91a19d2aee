import type { Browser, Page } from 'playwright-core';
import { buildWebAppIfStale, WEB_APP_OUT_DIR } from '../../scripts/build.ts';
import { launchChromium } from '../../test/support/chromium.ts';
import { type ChildServer, startChildServer, stopChildServer } from '../../test/support/childServer.ts';
import { makeTempDir } from '../../test/support/tempDir.ts';
import { createRoom, devLogin } from '../load/parleyApi.ts';
import { SEED_AUTHOR } from '../load/seed.ts';
import { type SeededHistory, seedHistoryInSegments } from '../load/segmentedRoom.ts';
import { type StaticRun, rowsForFrames, scrollStaticList } from '../load/staticList.ts';
import { type ScrollRun, DEEP_QUERY, FRAME_MS, WAIT_MS, dropped, paintedAt, rowPresent, scrollBack, signIn } from '../load/webAppPage.ts';
import type { Figure, RunOptions, Scenario } from '../scenario.ts';
import { median, quantile } from '../stats.ts';

/*
 * The reference web app in Debian's Chromium (headless, software rendering) on a room of
 * 1,000,000 messages (quick: 200,000) in segments (bench/load/segmentedRoom.ts: 5,000 a segment,
 * the open one empty, the head as a conversion leaves it), against a server in a child process
 * with its defaults; a room of 50 messages (one document) is measured the same way.
 *
 * - Cold open: a fresh browser context (nothing in IndexedDB), signed in, the room list shown;
 *   then the room is opened by its route (`#/rooms/<id>`). Timed in the page from that moment
 *   (performance.now() as the hash is set) to "newest painted": the start of the animation frame
 *   after the first frame whose DOM held the newest message's row (what the app's
 *   `parley:room-painted` mark means: one frame after the list rendered its rows). The app's mark
 *   is reported too, with the rows the list held when it was made (it once came with an empty
 *   list on a cold segmented room, before the newest rows arrived: a check that it no longer does).
 *   The first open after the server starts (documents loaded from SQLite) is reported alone; the
 *   medians are of the opens after it.
 * - Scroll back: a fresh context cold-opens the room; once its sockets have been quiet for
 *   QUIET_MS (the open's documents arrived), the message list is scrolled up 200 px every
 *   animation frame until the message 10,000 places before the newest is in view. The newest
 *   sealed segment is open by then; the target is two segments older, each fetched on demand (the
 *   list waits at its top, "Loading earlier messages…", while one syncs). Every frame interval is
 *   recorded; "dropped" counts the 60 Hz frames missed (an interval of 50 ms missed two). Frames
 *   that end with the list still at its top (scrollTop 0) are time spent waiting for older
 *   messages; a stretch of them of SEGMENT_WAIT_MS or more is a segment syncing (a page from a
 *   segment already open renders within a frame or two). Before every scroll run but the first
 *   the server is restarted on the same data, so each run finds the older segments in storage
 *   only, as the first did (the server keeps a segment loaded 30 s after its last reader).
 * - The floor: after every scroll run, a static list of plain rows (bench/load/staticList.ts)
 *   sized to give as many frames is scrolled the same way in a fresh context of the same browser.
 *   What it drops is the browser's and the machine's, with no app; the app's figure is read
 *   against it (it is not 0 on this machine: README, "The web app on a 1M room, 2026-12-06").
 *   The same page times 2,000 plain rows laid out, for how fast the machine ran such work then.
 */

const SCROLL_STEP_PX = 200;
const SCROLL_BACK = 10_000;
const SMALL = 50;
/** A wait at the top of the list this long is a segment syncing, not a page rendering. */
const SEGMENT_WAIT_MS = 100;

interface Sizes {
  readonly messages: number;
  readonly opens: number;
  readonly scrolls: number;
}
const QUICK: Sizes = { messages: 200_000, opens: 3, scrolls: 1 };
const FULL: Sizes = { messages: 1_000_000, opens: 5, scrolls: 5 };

interface ServedRoom {
  server: ChildServer;
  readonly roomId: string;
  readonly seed: SeededHistory;
  /** Stops the server and starts it again on the same data dir (a new port). */
  restart(): Promise<void>;
  close(): Promise<void>;
}

/** A room with `messages` seeded into the stopped server's SQLite, in segments from 5,000 on. */
async function serveRoom(messages: number): Promise<ServedRoom> {
  const dir = makeTempDir('parley-bench-webapp-large-');
  const args = ['--dev', '--port', '0', '--data-dir', dir.dir, '--app-dir', WEB_APP_OUT_DIR];
  const start = (): Promise<ChildServer> => startChildServer(args, { PARLEY_LOG_LEVEL: 'info' });
  let server = await start();
  try {
    const ana = await devLogin(server.url, 'Ana', SEED_AUTHOR.userId);
    const ben = await devLogin(server.url, 'Ben');
    const roomId = await createRoom(server.url, ana.token, { type: 'group', name: 'Everyone', members: [{ user_id: ben.userId }] });
    await stopChildServer(server);
    const seed = seedHistoryInSegments(dir.dir, roomId, SEED_AUTHOR.userId, messages);
    server = await start();
    const room: ServedRoom = {
      server,
      roomId,
      seed,
      async restart() {
        await stopChildServer(room.server);
        room.server = await start();
      },
      async close() {
        await stopChildServer(room.server);
        dir.remove();
      },
    };
    return room;
  } catch (error) {
    await stopChildServer(server);
    dir.remove();
    throw error;
  }
}

interface Open {
  /** ms from the hash set to the frame after the first frame whose DOM held the newest message's row. */
  readonly newest: number;
  /** ms from the hash set to the app's `parley:room-painted` mark. */
  readonly mark: number;
  /** Message rows in the list when the app made its mark. */
  readonly rowsAtMark: number;
}

/** Set in the page by coldOpen's script. */
interface OpenProbe {
  readonly asked: number;
  readonly newestFrame: number | null;
  readonly newestPainted: number | null;
  readonly rowsAtMark: number | null;
}
const PROBE = '__parleyBenchOpen';

/**
 * Signed in as Ben with the room list shown, then the room opened by route. In the page, from the
 * moment the hash is set: every animation frame looks for the newest message's row in the
 * scroller's shadow root; the frame after the first one that has it is when it was painted (the
 * app's own mark is made the same way: one frame after the list rendered its rows; a frame's
 * callbacks run in the order asked, so this can be one frame late). The app's `performance.mark`
 * call is wrapped to count the rows in the list at that moment.
 */
async function coldOpen(page: Page, room: ServedRoom): Promise<Open> {
  const newestId = room.seed.newest(1)[0] ?? '';
  await signIn(page, room.server.url, 'Ben');
  await page.locator('parley-room-list').waitFor();
  await page.locator(`[data-room-id="${room.roomId}"]`).waitFor();
  const ask = `(() => {
    const deepQuery = ${DEEP_QUERY};
    const probe = { asked: 0, newestFrame: null, newestPainted: null, rowsAtMark: null };
    window.${PROBE} = probe;
    const rowsIn = (scroller) => (scroller ? scroller.querySelectorAll('[data-message-id]').length : 0);
    const mark = performance.mark.bind(performance);
    performance.mark = (name, options) => {
      if (name === 'parley:room-painted' && probe.rowsAtMark === null) probe.rowsAtMark = rowsIn(deepQuery('[data-testid="message-scroller"]'));
      return mark(name, options);
    };
    let scroller = null;
    const deadline = performance.now() + ${WAIT_MS};
    const frame = (now) => {
      if (probe.newestFrame !== null) {
        probe.newestPainted = now;
        return;
      }
      if (!scroller || !scroller.isConnected) scroller = deepQuery('[data-testid="message-scroller"]');
      if (scroller && scroller.querySelector('[data-message-id="${newestId}"]')) probe.newestFrame = now;
      if (now < deadline) requestAnimationFrame(frame);
    };
    location.hash = '#/rooms/' + encodeURIComponent(${JSON.stringify(room.roomId)});
    probe.asked = performance.now();
    requestAnimationFrame(frame);
    return probe.asked;
  })()`;
  await page.evaluate(ask);
  const painted = await paintedAt(page);
  await rowPresent(page, newestId);
  await page.waitForFunction(`window.${PROBE}.newestPainted !== null`, undefined, { timeout: WAIT_MS });
  const probe = (await page.evaluate(`window.${PROBE}`)) as OpenProbe;
  if (probe.newestPainted === null) throw new Error('the newest row was never seen in an animation frame');
  if (painted < probe.asked) throw new Error(`the room-painted mark (${painted} ms) came before the room was asked for (${probe.asked} ms)`);
  return { newest: probe.newestPainted - probe.asked, mark: painted - probe.asked, rowsAtMark: probe.rowsAtMark ?? -1 };
}

interface Measured {
  /** The first open after the server started (documents loaded from SQLite), not in `opens`. */
  readonly first: Open;
  readonly opens: Open[];
  readonly seedMs: number;
  readonly scrolls: Scrolled[];
}

interface Scrolled {
  readonly run: ScrollRun;
  /** The static list scrolled straight after, sized to as many frames, with its layout reference. */
  readonly floor: StaticRun;
  /** ms from the newest painted until the page's sockets were quiet and the scroll began. */
  readonly settleMs: number;
}

async function withContext<T>(browser: Browser, fn: (page: Page) => Promise<T>): Promise<T> {
  const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
  try {
    return await fn(await context.newPage());
  } finally {
    await context.close();
  }
}

/** Quiet that long on every WebSocket of the page: the open's documents have arrived. */
const QUIET_MS = 500;
const SETTLE_CAP_MS = 30_000;

/** Resolves once no WebSocket frame went either way on `page` for QUIET_MS (or after SETTLE_CAP_MS); the ms it waited. */
function socketWatch(page: Page): () => Promise<number> {
  let last = Date.now();
  page.on('websocket', (ws) => {
    last = Date.now();
    ws.on('framereceived', () => (last = Date.now()));
    ws.on('framesent', () => (last = Date.now()));
  });
  return async () => {
    const started = Date.now();
    while (Date.now() - last < QUIET_MS && Date.now() - started < SETTLE_CAP_MS) await new Promise((resolve) => setTimeout(resolve, 50));
    return Date.now() - started;
  };
}

async function measure(browser: Browser, messages: number, opens: number, scrolls: number): Promise<Measured> {
  const room = await serveRoom(messages);
  try {
    const first = await withContext(browser, (page) => coldOpen(page, room));
    const timed: Open[] = [];
    for (let run = 0; run < opens; run++) timed.push(await withContext(browser, (page) => coldOpen(page, room)));
    const targetId = room.seed.newest(SCROLL_BACK + 1)[0] ?? '';
    const scrolled: Scrolled[] = [];
    for (let run = 0; run < scrolls; run++) {
      if (run > 0) await room.restart();
      const app = await withContext(browser, async (page) => {
        const quiet = socketWatch(page);
        await coldOpen(page, room);
        const settleMs = await quiet();
        return { run: await scrollBack(page, targetId, SCROLL_STEP_PX), settleMs };
      });
      const floor = await scrollStaticList(browser, rowsForFrames(app.run.intervals.length, SCROLL_STEP_PX), SCROLL_STEP_PX);
      scrolled.push({ ...app, floor });
    }
    return { first, opens: timed, scrolls: scrolled, seedMs: room.seed.seedMs };
  } finally {
    await room.close();
  }
}

/** Stretches of consecutive frames spent at the top of the list: each one's length in ms, and the frames dropped in them. */
function waitsAtTop(run: ScrollRun): { ms: number; dropped: number }[] {
  const waits: { ms: number; dropped: number }[] = [];
  let current: number[] = [];
  const close = (): void => {
    if (current.length > 0) waits.push({ ms: sum(current), dropped: dropped(current) });
    current = [];
  };
  run.intervals.forEach((ms, i) => (run.atTop[i] ? current.push(ms) : close()));
  close();
  return waits;
}

const label = (messages: number): string => (messages >= 1_000_000 ? `${messages / 1_000_000}M room` : messages >= 1_000 ? `${messages / 1_000}k room` : `${messages}-msg room`);
const list = (values: readonly number[], digits = 0): string => values.map((v) => v.toFixed(digits)).join(', ');
const sum = (values: readonly number[]): number => values.reduce((s, v) => s + v, 0);

function openFigures(big: Measured, small: Measured, messages: number): Figure[] {
  const b = label(messages);
  const s = label(SMALL);
  const newest = (m: Measured): number => median(m.opens.map((o) => o.newest));
  const mark = (m: Measured): number => median(m.opens.map((o) => o.mark));
  const runs = (m: Measured): string => `median of ${m.opens.length} fresh browser contexts, after a first open; runs ${list(m.opens.map((o) => o.newest))} ms`;
  const rows = (m: Measured): string => `rows in the list at the mark: ${list(m.opens.map((o) => o.rowsAtMark))}; newest painted ${list(m.opens.map((o) => o.newest))} ms`;
  return [
    { metric: `${b}: cold open to newest painted`, value: newest(big), unit: 'ms', better: 'lower', note: `route set -> frame after the newest row's first frame; ${runs(big)}` },
    { metric: `${s}: cold open to newest painted`, value: newest(small), unit: 'ms', better: 'lower', note: runs(small) },
    { metric: `${b} / ${s}: cold open to newest painted`, value: newest(big) / newest(small), unit: '×', better: 'lower', note: 'medians; largeRoom holds the SDK target (≤ 2)' },
    { metric: `${b}: cold open to the app's room-painted mark`, value: mark(big), unit: 'ms', better: 'lower', note: rows(big) },
    { metric: `${s}: cold open to the app's room-painted mark`, value: mark(small), unit: 'ms', better: 'lower', note: rows(small) },
    {
      metric: `${b}: first cold open after a server start, to newest painted`,
      value: big.first.newest,
      unit: 'ms',
      better: 'lower',
      note: `head and newest segments loaded from SQLite; ${s}: ${small.first.newest.toFixed(0)} ms; the ${b} was seeded in ${(big.seedMs / 1000).toFixed(1)} s`,
    },
  ];
}

function scrollFigures(scrolled: readonly Scrolled[], messages: number): Figure[] {
  if (scrolled.length === 0) return [];
  const runs = scrolled.map((s) => s.run);
  const what = `scroll back ${SCROLL_BACK.toLocaleString('en-US')} messages`;
  const per = runs.map((run) => {
    const waits = waitsAtTop(run);
    const segmentWaits = waits.filter((w) => w.ms >= SEGMENT_WAIT_MS);
    return {
      seconds: sum(run.intervals) / 1000,
      dropped: dropped(run.intervals),
      atTopMs: sum(waits.map((w) => w.ms)),
      segmentWaitMs: sum(segmentWaits.map((w) => w.ms)),
      segmentWaits: segmentWaits.length,
      longestWaitMs: Math.max(0, ...waits.map((w) => w.ms)),
      droppedAtTop: sum(waits.map((w) => w.dropped)),
      longTasks: run.longTasks,
      rows: run.rows,
    };
  });
  const intervals = runs.flatMap((r) => r.intervals);
  const floors = scrolled.map((s) => s.floor.scroll);
  const floorDropped = floors.map((f) => dropped(f.intervals));
  const layoutMs = scrolled.map((s) => s.floor.layoutMs);
  const totalDropped = sum(per.map((p) => p.dropped));
  const totalSeconds = sum(per.map((p) => p.seconds));
  const slots = intervals.length + totalDropped;
  const base = `${label(messages)}, ${runs.length} run(s), ${SCROLL_STEP_PX} px per frame`;
  return [
    {
      metric: `${what}: dropped frames`,
      value: median(per.map((p) => p.dropped)),
      unit: 'frames',
      better: 'lower',
      note: `median of runs ${list(per.map((p) => p.dropped))}; ${((100 * totalDropped) / slots).toFixed(1)}% of ${slots} 60 Hz frames; ${sum(per.map((p) => p.droppedAtTop))} while at the top; ${sum(per.map((p) => p.longTasks))} long tasks; target 0; the static list straight after each run: ${list(floorDropped)}`,
    },
    {
      metric: 'static list, no app (the floor): dropped frames',
      value: median(floorDropped),
      unit: 'frames',
      better: 'lower',
      note: `median of runs ${list(floorDropped)}, each right after a run of the app and sized to as many frames (${list(floors.map((f) => f.intervals.length))}); longest frame ${list(floors.map((f) => Math.max(...f.intervals)), 1)} ms; ${sum(floors.map((f) => f.longTasks))} long tasks; plain rows, same browser, viewport and step`,
    },
    {
      metric: "static list: 2,000 plain rows built and laid out (the browser's speed at the time)",
      value: median(layoutMs),
      unit: 'ms',
      better: 'lower',
      note: `median of runs ${list(layoutMs, 1)} ms (each the median of 7, taken before each static scroll); higher means the machine ran the app's kind of work slower during that run`,
    },
    { metric: `${what}: dropped frames per second`, value: totalDropped / totalSeconds, unit: '/s', better: 'lower', note: `${totalDropped} dropped over ${totalSeconds.toFixed(1)} s of scrolling, all runs` },
    { metric: `${what}: frame interval p99`, value: quantile(intervals, 0.99), unit: 'ms', better: 'lower', note: `${base}, ${intervals.length} frames` },
    { metric: `${what}: longest frame`, value: Math.max(...intervals), unit: 'ms', better: 'lower', note: `${base}; per run ${list(runs.map((r) => Math.max(...r.intervals)), 1)} ms` },
    { metric: `${what}: frames over 1.5 × ${FRAME_MS.toFixed(1)} ms`, value: median(runs.map((r) => r.intervals.filter((ms) => ms > 1.5 * FRAME_MS).length)), unit: 'frames', better: 'lower', note: `median of runs, ${base}` },
    { metric: `${what}: total time`, value: median(per.map((p) => p.seconds)), unit: 's', better: 'lower', note: `median of runs ${list(per.map((p) => p.seconds), 2)} s; began ${list(scrolled.map((x) => x.settleMs))} ms after the newest painted (sockets quiet ${QUIET_MS} ms); ${Math.max(...per.map((p) => p.rows))} rows in the DOM at the end` },
    {
      metric: `${what}: waiting for segments`,
      value: median(per.map((p) => p.segmentWaitMs)) / 1000,
      unit: 's',
      better: 'lower',
      note: `median of runs; at the top ("Loading earlier messages…") in stretches of ≥ ${SEGMENT_WAIT_MS} ms: ${list(per.map((p) => p.segmentWaits))} stretch(es) a run, longest ${list(per.map((p) => p.longestWaitMs))} ms; all time at the top ${list(per.map((p) => p.atTopMs))} ms`,
    },
  ];
}

const webAppLargeRoom: Scenario = {
  name: 'webAppLargeRoom',
  description: 'the web app in headless Chromium on a room of 1M messages in segments (quick: 200k): cold open to newest painted against a 50-message room, and scrolling back 10,000 messages across segments fetched on demand',
  async run(opts: RunOptions): Promise<Figure[]> {
    const sizes = opts.quick ? QUICK : FULL;
    await buildWebAppIfStale();
    const browser = await launchChromium();
    try {
      const small = await measure(browser, SMALL, sizes.opens, 0);
      const big = await measure(browser, sizes.messages, sizes.opens, sizes.scrolls);
      return [...openFigures(big, small, sizes.messages), ...scrollFigures(big.scrolls, sizes.messages)];
    } finally {
      await browser.close();
    }
  },
};

export default webAppLargeRoom;
