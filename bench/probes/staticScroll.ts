import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { FRAME_MS, dropped, scrollBack } from '../load/webAppPage.ts';
import { launchChromium } from '../../test/support/chromium.ts';

/*
 * The instrument's floor for the web app's scroll figure (webAppLargeRoom, "scroll back 10,000
 * messages"): a static list of plain rows, no framework, no network, scrolled up in the same
 * browser, with the same flags, viewport, step (200 px a frame) and frame counting (bench/load/webAppPage.ts).
 * Whatever it drops is what this machine's headless Chromium drops with no app at all.
 * Usage: npx tsx bench/probes/staticScroll.ts [rows] [runs]   (prints one JSON line, and writes it to bench/results/)
 */

const ROWS = Number(process.argv[2] ?? 6_000);
const RUNS = Number(process.argv[3] ?? 3);
const STEP_PX = 200;

const row = (i: number): string =>
  `<div class="row" data-message-id="r${i}"><b>User ${i % 7}</b> <time>12:${String(i % 60).padStart(2, '0')}</time><p>message ${i} of the static list, about as long as a chat line gets on one row</p></div>`;
const page = `<!doctype html><html><head><style>
  html, body { margin: 0; height: 100%; font: 14px system-ui, sans-serif; }
  .scroller { height: 100%; overflow-y: auto; overflow-anchor: none; }
  .row { padding: 6px 20px; border-bottom: 1px solid #eee; } .row p { margin: 2px 0 0; }
</style></head><body><div class="scroller" data-testid="message-scroller">${Array.from({ length: ROWS }, (_, i) => row(i)).join('')}</div></body></html>`;

const browser = await launchChromium();
const results: { dropped: number; frames: number; longestMs: number; longTasks: number }[] = [];
try {
  for (let run = 0; run < RUNS; run++) {
    const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
    const tab = await context.newPage();
    await tab.setContent(page);
    const scrolled = await scrollBack(tab, 'r0', STEP_PX);
    results.push({ dropped: dropped(scrolled.intervals), frames: scrolled.intervals.length, longestMs: Math.max(...scrolled.intervals), longTasks: scrolled.longTasks });
    await context.close();
  }
} finally {
  await browser.close();
}
const line = JSON.stringify({ probe: 'staticScroll', at: new Date().toISOString(), rows: ROWS, stepPx: STEP_PX, frameMs: FRAME_MS, runs: results });
console.log(line);
writeFileSync(path.join(import.meta.dirname, '..', 'results', `staticScroll-${new Date().toISOString().replace(/[:.]/g, '')}.json`), `${line}\n`);
