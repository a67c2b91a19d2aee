import { expect, it } from 'vitest';
import type { Locator, Page } from 'playwright-core';
import { withSegmentedHistory } from '../support/seededRooms.ts';
import { SEGMENT_MAX_MESSAGES } from '../../shared/roomDoc/segments.ts';
import { PAGE_SIZE } from '../../client/ui/controllers/RoomController.ts';
import { createRoom, describeInBrowser, newDevice, signIn, UI_TIMEOUT } from './support/appPage.ts';

/** Four sealed segments and an open one holding more than a page: 20,060 messages. */
const COUNT = 4 * SEGMENT_MAX_MESSAGES + PAGE_SIZE + 10;
/** A message in the middle of sealed segment 1, far from the newest page: its context is all in its own segment. */
const DEEP = SEGMENT_MAX_MESSAGES + SEGMENT_MAX_MESSAGES / 2;
/** The first message of sealed segment 3: the context before it is in segment 2. */
const SEGMENT_START = 3 * SEGMENT_MAX_MESSAGES;
/** Words only those two messages hold. */
const WORDS = new Map([
  [DEEP, 'quetzalcoatlus'],
  [SEGMENT_START, 'archaeopteryx'],
]);
const textOf = (i: number, id: string): string => {
  const word = WORDS.get(i);
  return word === undefined ? `history ${id}` : `the ${word} flew over the ridge`;
};

/** The ids of the rendered rows, top to bottom. */
const rowIds = (page: Page): Promise<string[]> =>
  page.locator('parley-message').evaluateAll((rows) => rows.map((r) => r.getAttribute('data-message-id') ?? ''));

const rowOf = (page: Page, id: string): Locator => page.locator(`parley-message[data-message-id="${id}"]`);

/** Whether the row lies wholly inside the message scroller's viewport. */
const inViewport = (row: Locator): Promise<boolean> =>
  row.evaluate((el) => {
    const scroller = el.closest('[data-testid="message-scroller"]');
    if (!scroller) return false;
    const [r, s] = [el.getBoundingClientRect(), scroller.getBoundingClientRect()];
    return r.height > 0 && r.top >= s.top && r.bottom <= s.bottom;
  });

/** Searches for `word`, expects its one hit to be message `id`, and chooses it. */
async function openHit(page: Page, word: string, id: string): Promise<void> {
  const search = page.getByLabel('Search messages');
  await search.fill('');
  await search.fill(word);
  const hit = page.getByTestId('search-results').getByTestId('search-hit');
  await expect.poll(() => hit.getAttribute('data-message-id'), { timeout: UI_TIMEOUT }).toBe(id);
  expect(await hit.count()).toBe(1);
  await hit.click();
  await page.waitForFunction((messageId) => location.hash.endsWith(`/messages/${encodeURIComponent(messageId)}`), id);
}

describeInBrowser('web app: a search result deep in a segmented room', (suite) => {
  it('opens the room at a hit in an old sealed segment this device never held, with context both ways, and pages on from there', async () => {
    const { server, browser } = suite;
    const ana = await server.login('Ana Lima');
    const ben = await server.login('Ben Okafor');
    const roomId = await createRoom(server, ana, 'archive', [ben]);
    // As the server leaves a room that grew: sealed segments, every message in the search index.
    const ids = await withSegmentedHistory(server, roomId, ben.id, COUNT, { content: textOf, searchable: true });
    const idAt = (i: number): string => ids[i] ?? '';
    const target = idAt(DEEP);

    // A new device: no segment of the room is in memory or stored on it.
    const a = await newDevice(browser, server);
    await signIn(a.page, 'Ana Lima');
    await openHit(a.page, 'quetzalcoatlus', target);

    // The hit is in view, its neighbours from the segment rendered above and below it, in view too.
    const row = rowOf(a.page, target);
    await row.waitFor({ timeout: UI_TIMEOUT });
    await expect.poll(() => inViewport(row), { timeout: UI_TIMEOUT }).toBe(true);
    expect(await row.getByText('the quetzalcoatlus flew over the ridge').count()).toBe(1);
    const shown = await rowIds(a.page);
    const at = shown.indexOf(target);
    expect(at).toBeGreaterThan(0);
    expect(at).toBeLessThan(shown.length - 1);
    // One unbroken run of the room's messages around it, not the newest page.
    expect(shown).toEqual(ids.slice(DEEP - at, DEEP - at + shown.length));
    expect(shown).not.toContain(ids.at(-1));
    for (const id of [idAt(DEEP - 1), idAt(DEEP + 1)]) {
      await expect.poll(() => inViewport(rowOf(a.page, id))).toBe(true);
      expect(await rowOf(a.page, id).getByText(`history ${id}`).count()).toBe(1);
    }

    // Scrolling up from there brings the page before; scrolling down, the page after.
    const scroller = a.page.locator('[data-testid="message-scroller"]');
    const scrollUntilEdgeMoves = async (toTop: boolean): Promise<string[]> => {
      const edge = (rows: string[]): string | undefined => (toTop ? rows[0] : rows.at(-1));
      const before = edge(await rowIds(a.page));
      await scroller.evaluate((el, top) => {
        el.scrollTop = top ? 0 : el.scrollHeight;
      }, toTop);
      await expect.poll(async () => edge(await rowIds(a.page)), { timeout: UI_TIMEOUT }).not.toBe(before);
      const rows = await rowIds(a.page);
      const from = ids.indexOf(rows[0] ?? '');
      expect(rows).toEqual(ids.slice(from, from + rows.length));
      return rows;
    };
    const older = await scrollUntilEdgeMoves(true);
    expect(ids.indexOf(older[0] ?? '')).toBeLessThan(DEEP - at);
    expect(older).toContain(target);
    const newer = await scrollUntilEdgeMoves(false);
    expect(ids.indexOf(newer.at(-1) ?? '')).toBeGreaterThan(DEEP - at + shown.length - 1);

    // A hit at the start of a sealed segment, from the open room: its context before is in the
    // segment before, not held either; the room waits for that one too, so the hit shows with
    // its context above it from its first frame, not alone at the top until it arrives.
    const first = idAt(SEGMENT_START);
    await openHit(a.page, 'archaeopteryx', first);
    await rowOf(a.page, first).waitFor({ timeout: UI_TIMEOUT });
    expect(await rowIds(a.page)).toContain(idAt(SEGMENT_START - 1));
    for (const id of [first, idAt(SEGMENT_START - 1), idAt(SEGMENT_START + 1)]) await expect.poll(() => inViewport(rowOf(a.page, id))).toBe(true);
    const around = await rowIds(a.page);
    const from = ids.indexOf(around[0] ?? '');
    expect(from).toBeLessThan(SEGMENT_START - 1);
    expect(around).toEqual(ids.slice(from, from + around.length));
    await a.context.close();
  }, 90_000);
});
