import type { Browser } from 'playwright-core';
import { z } from 'zod';
import { median } from '../stats.ts';
import { type ScrollRun, scrollBack } from './webAppPage.ts';

/*
 * The instrument's floor for the web app's scroll figures: a static list of plain rows (no
 * framework, no script of its own, no network) in the same browser, with the same viewport, step
 * and frame counting (webAppPage.scrollBack). Whatever it drops is what this machine's headless
 * Chromium drops with no app at all. Rows have a fixed height, so a list can be sized to give as
 * many frames as a run of the app gave.
 *
 * The floor says little about how fast the machine runs the app's own work at the moment (a
 * frame of the static list has almost none; on 2026-12-06 the same client dropped 12 frames a run
 * one hour and 118 the next, while the static list dropped 2 and 7). So the same page also times
 * a piece of the kind of work the app does in a frame: REFERENCE_ROWS rows built from HTML and
 * laid out.
 */

/** Every row's height (px). */
export const STATIC_ROW_PX = 48;

const row = (i: number): string =>
  `<div class="row" data-message-id="r${i}"><b>User ${i % 7}</b> <time>12:${String(i % 60).padStart(2, '0')}</time><p>message ${i} of the static list, about as long as a chat line gets on one row</p></div>`;
const rowsHtml = (rows: number): string => Array.from({ length: rows }, (_, i) => row(i)).join('');

function staticListPage(rows: number): string {
  return `<!doctype html><html><head><style>
  html, body { margin: 0; height: 100%; font: 14px system-ui, sans-serif; }
  .scroller { height: 100%; overflow-y: auto; overflow-anchor: none; }
  .row { box-sizing: border-box; height: ${STATIC_ROW_PX}px; overflow: hidden; padding: 6px 20px; border-bottom: 1px solid #eee; } .row p { margin: 2px 0 0; }
</style></head><body><div class="scroller" data-testid="message-scroller">${rowsHtml(rows)}</div></body></html>`;
}

/** Rows that a scroll of `stepPx` a frame crosses in about `frames` frames (the viewport's height aside). */
export const rowsForFrames = (frames: number, stepPx: number): number => Math.ceil((frames * stepPx) / STATIC_ROW_PX);

/** Rows of the layout reference, and how many times it is taken (the median is kept). */
const REFERENCE_ROWS = 2_000;
const REFERENCE_REPEATS = 7;

export interface StaticRun {
  readonly scroll: ScrollRun;
  /** ms to build REFERENCE_ROWS rows from HTML and lay them out, median of REFERENCE_REPEATS, before the scroll. */
  readonly layoutMs: number;
}

/** Scrolls a static list of `rows` rows from its bottom to its first row, `stepPx` a frame, in a fresh context of `browser`. */
export async function scrollStaticList(browser: Browser, rows: number, stepPx: number): Promise<StaticRun> {
  const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
  try {
    const tab = await context.newPage();
    await tab.setContent(staticListPage(rows));
    const reference = `(() => {
      const html = ${JSON.stringify(rowsHtml(REFERENCE_ROWS))};
      const times = [];
      for (let i = 0; i < ${REFERENCE_REPEATS}; i++) {
        const host = document.createElement('div');
        host.style.cssText = 'position:absolute;left:0;top:0;width:1280px;visibility:hidden';
        document.body.append(host);
        const started = performance.now();
        host.innerHTML = html;
        void host.offsetHeight;
        times.push(performance.now() - started);
        host.remove();
      }
      return times;
    })()`;
    const layoutMs = median(z.array(z.number()).min(1).parse(await tab.evaluate(reference)));
    return { scroll: await scrollBack(tab, 'r0', stepPx), layoutMs };
  } finally {
    await context.close();
  }
}
