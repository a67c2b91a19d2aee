import type { Page } from 'playwright-core';

/*
 * The web app's page as the browser benchmarks drive it (webAppLoad, webAppLargeRoom): queries
 * through open shadow roots, the app's `parley:room-painted` mark, and scrolling the message list
 * back one step per animation frame while recording every frame interval.
 */

/** Longest a page expectation waits. */
export const WAIT_MS = 300_000;
export const FRAME_MS = 1000 / 60;

/** Runs in the page: the first element matching `selector`, looking inside every open shadow root. */
export const DEEP_QUERY = `(selector) => {
  const visit = (root) => {
    const hit = root.querySelector(selector);
    if (hit) return hit;
    for (const el of root.querySelectorAll('*')) if (el.shadowRoot) { const found = visit(el.shadowRoot); if (found) return found; }
    return null;
  };
  return visit(document);
}`;

/** Runs in the page: how many elements match `selector`, inside every open shadow root too. */
export const DEEP_COUNT = `(selector) => {
  const visit = (root) => {
    let n = root.querySelectorAll(selector).length;
    for (const el of root.querySelectorAll('*')) if (el.shadowRoot) n += visit(el.shadowRoot);
    return n;
  };
  return visit(document);
}`;

export async function signIn(page: Page, url: string, name: string): Promise<void> {
  await page.goto(url);
  await page.getByLabel('Your name').fill(name);
  await page.getByRole('button', { name: 'Sign in' }).click();
}

/** Milliseconds from navigation start to the room-painted mark, once it exists. */
export async function paintedAt(page: Page): Promise<number> {
  const handle = await page.waitForFunction(
    () => performance.getEntriesByName('parley:room-painted')[0]?.startTime ?? false,
    undefined,
    { timeout: WAIT_MS },
  );
  return (await handle.jsonValue()) as number;
}

export async function rowPresent(page: Page, id: string): Promise<void> {
  await page.waitForFunction(`(${DEEP_QUERY})('[data-message-id="${id}"]') !== null`, undefined, { timeout: WAIT_MS });
}

export interface ScrollRun {
  readonly intervals: number[];
  /**
   * Per interval: whether the list was still at its very top when it ended (scrollTop 0, nothing
   * added above since the last step): the interval was spent waiting for older messages (a page
   * rendering, or a segment syncing) rather than scrolling.
   */
  readonly atTop: boolean[];
  readonly rows: number;
  readonly longTasks: number;
}

/**
 * In the page: scroll up `stepPx` per frame until `targetId` is in view; every frame interval,
 * and whether the list sat at its top during it.
 */
export async function scrollBack(page: Page, targetId: string, stepPx: number): Promise<ScrollRun> {
  const script = `(async () => {
    const deepQuery = ${DEEP_QUERY};
    const scroller = deepQuery('[data-testid="message-scroller"]');
    if (!scroller) throw new Error('no message scroller');
    let longTasks = 0;
    const observer = new PerformanceObserver((list) => { longTasks += list.getEntries().length; });
    observer.observe({ type: 'longtask' });
    scroller.scrollTop = scroller.scrollHeight;
    await new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r)));
    const intervals = [];
    const atTop = [];
    const deadline = performance.now() + ${WAIT_MS};
    await new Promise((resolve, reject) => {
      let last = null;
      const frame = (now) => {
        if (last !== null) {
          intervals.push(now - last);
          atTop.push(scroller.scrollTop <= 0);
        }
        last = now;
        // The rows are in the scroller's own shadow root: a walk of every shadow root per frame
        // would be the harness's cost, not the app's.
        const target = scroller.querySelector('[data-message-id="${targetId}"]');
        if (target && target.getBoundingClientRect().top >= scroller.getBoundingClientRect().top) return resolve();
        if (now > deadline) return reject(new Error('scrolling back did not reach the target message'));
        scroller.scrollTop -= ${stepPx};
        requestAnimationFrame(frame);
      };
      requestAnimationFrame(frame);
    });
    observer.disconnect();
    const rows = (${DEEP_COUNT})('[data-message-id]');
    return { intervals, atTop, rows, longTasks };
  })()`;
  return (await page.evaluate(script)) as ScrollRun;
}

export const dropped = (intervals: readonly number[]): number => intervals.reduce((sum, ms) => sum + Math.max(0, Math.round(ms / FRAME_MS) - 1), 0);
