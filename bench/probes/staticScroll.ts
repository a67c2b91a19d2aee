import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import { FRAME_MS, dropped } from '../load/webAppPage.ts';
import { scrollStaticList } from '../load/staticList.ts';
import { launchChromium } from '../../test/support/chromium.ts';

/*
 * The scroll figure's floor on its own (webAppLargeRoom measures it beside every scroll run of
 * the app): a static list of plain rows scrolled up in the same browser, with the same flags,
 * viewport, step (200 px a frame) and frame counting (bench/load/staticList.ts).
 * Usage: npx tsx bench/probes/staticScroll.ts [rows] [runs]   (prints one JSON line, and writes it to bench/results/)
 */

const ROWS = z.coerce.number().int().min(10).max(100_000).default(6_000).parse(process.argv[2]);
const RUNS = z.coerce.number().int().min(1).max(100).default(3).parse(process.argv[3]);
const STEP_PX = 200;

const browser = await launchChromium();
const results: { dropped: number; frames: number; longestMs: number; longTasks: number; layoutMs: number }[] = [];
try {
  for (let run = 0; run < RUNS; run++) {
    const { scroll, layoutMs } = await scrollStaticList(browser, ROWS, STEP_PX);
    results.push({ dropped: dropped(scroll.intervals), frames: scroll.intervals.length, longestMs: Math.max(...scroll.intervals), longTasks: scroll.longTasks, layoutMs });
  }
} finally {
  await browser.close();
}
const line = JSON.stringify({ probe: 'staticScroll', at: new Date().toISOString(), rows: ROWS, stepPx: STEP_PX, frameMs: FRAME_MS, runs: results });
console.log(line);
writeFileSync(path.join(import.meta.dirname, '..', 'results', `staticScroll-${new Date().toISOString().replace(/[:.]/g, '')}.json`), `${line}\n`);
