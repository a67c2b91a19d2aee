import { expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { freshDbName, openTestClient } from '../support/clientHarness.ts';
import { type BrowserSuite, createRoom, messageRow, newDevice, openRoom, screenshot, signIn, UI_TIMEOUT, describeInBrowser } from './support/appPage.ts';
import { MAX_WINDOW, PAGE_SIZE } from '../../client/ui/controllers/RoomController.ts';

const COUNT = 600;

/** Scrolls the message list to its top, which asks for the page before. */
const scrollToTop = (page: Page): Promise<void> =>
  page.locator('[data-testid="message-scroller"]').evaluate((el) => {
    el.scrollTop = 0;
  });

/**
 * Room `name` of Ana and Ben, where Ben's SDK client (`seeder`, still open, in `room`) has written
 * `count` messages, `text(i)` for i from 1, all of them held by the server.
 */
async function roomWithMessages({ server }: BrowserSuite, name: string, count: number, text: (i: number) => string) {
  const ana = await server.login('Ana Lima');
  const ben = await server.login('Ben Okafor');
  const roomId = await createRoom(server, ana, name, [ben]);
  const seeder = await openTestClient({ serverUrl: server.url, token: ben.token, dbName: freshDbName(`seed-${name}`) });
  const room = await seeder.openRoom(roomId);
  let last = '';
  for (let i = 1; i <= count; i++) last = (await room.send({ content: text(i) })).id;
  await room.whenSent(last);
  return { roomId, seeder, room };
}

describeInBrowser('web app: history', (suite) => {
  it(`scrolls back through ${COUNT} messages with a bounded number of rows and a stable position`, async () => {
    const { server, browser } = suite;
    const { roomId, seeder } = await roomWithMessages(suite, 'history', COUNT, (i) => `Message number ${i}`);
    await seeder.close();

    const a = await newDevice(browser, server);
    await signIn(a.page, 'Ana Lima');
    await openRoom(a.page, roomId);
    await messageRow(a.page, `Message number ${COUNT}`).waitFor();
    // Each scroll to the top loads an older page, with the row that was at the top staying in view.
    let pages = 0;
    for (;; pages++) {
      if (await a.page.getByText('This is the start of the conversation').isVisible()) break;
      const topId = await a.page.locator('parley-message').first().getAttribute('data-message-id');
      await scrollToTop(a.page);
      await a.page.waitForFunction(
        (id) => {
          const list = document.querySelector('parley-app')?.shadowRoot?.querySelector('parley-room-view')?.shadowRoot?.querySelector('parley-message-list')?.shadowRoot;
          const scroller = list?.querySelector<HTMLElement>('[data-testid="message-scroller"]');
          const row = list?.querySelector<HTMLElement>(`parley-message[data-message-id="${id}"]`);
          const first = list?.querySelector('parley-message')?.getAttribute('data-message-id');
          if (!scroller || !row || first === id) return false;
          // Rows render their content a moment after they are inserted: until the older page has
          // its height and the list has put the old top row back in place, the page above it has
          // not pushed the scroll position off the top yet. Only then is the next scroll a new one.
          if (scroller.scrollTop <= 0) return false;
          const top = row.getBoundingClientRect().top - scroller.getBoundingClientRect().top;
          return top >= -1 && top < scroller.clientHeight;
        },
        topId,
        { timeout: UI_TIMEOUT },
      );
      expect(await a.page.locator('parley-message').count()).toBeLessThanOrEqual(MAX_WINDOW);
    }
    // The first page is the newest one; every other page came from a scroll to the top.
    expect(pages).toBe(Math.ceil(COUNT / PAGE_SIZE) - 1);
    const first = a.page.locator('parley-message').first();
    expect(await first.locator('.content').innerText()).toBe('Message number 1');
    await screenshot(a.page, 'history-start');
    expect(await a.page.locator('parley-message').count()).toBeLessThanOrEqual(MAX_WINDOW);
    // Back to the newest with the jump button.
    await a.page.getByRole('button', { name: 'Jump to latest' }).click();
    await messageRow(a.page, `Message number ${COUNT}`).waitFor();
    await a.context.close();
  });
});

/** In the page: the list's scroller and how many of its rows show their actions (a row does while the pointer or focus is in it). */
const LIST_PROBE = `(() => {
  const list = document.querySelector('parley-app')?.shadowRoot?.querySelector('parley-room-view')?.shadowRoot?.querySelector('parley-message-list')?.shadowRoot;
  const scroller = list?.querySelector('[data-testid="message-scroller"]');
  if (!scroller) throw new Error('no message list');
  const active = () => [...scroller.querySelectorAll('parley-message')].filter((row) => row.shadowRoot?.querySelector('[role="toolbar"]')).length;
  return { scroller, active };
})()`;

describeInBrowser('web app: the pointer while scrolling', (suite) => {
  it('rows under a resting pointer do not activate while the reader scrolls, take the pointer again after, and a new message at the bottom does not hold it', async () => {
    const { server, browser } = suite;
    const { roomId, seeder, room } = await roomWithMessages(suite, 'pointer', 80, (i) => `Line ${i}`);

    const a = await newDevice(browser, server);
    await signIn(a.page, 'Ana Lima');
    await openRoom(a.page, roomId);
    await messageRow(a.page, 'Line 80').waitFor();
    // The pointer rests over a row in the middle of the list: that row shows its actions.
    const box = await messageRow(a.page, 'Line 75').boundingBox();
    if (!box) throw new Error('row not laid out');
    const [x, y] = [box.x + box.width / 2, box.y + box.height / 2];
    await a.page.mouse.move(x, y);
    await a.page.getByRole('toolbar', { name: 'Message actions' }).waitFor();

    // Scrolled up 40 px a frame for 20 frames under the resting pointer: once the first frame
    // has passed, no row shows its actions (each frame would otherwise bring a new row under it).
    const during = (await a.page.evaluate(`(async () => {
      const { scroller, active } = ${LIST_PROBE};
      const seen = [];
      for (let i = 0; i < 20; i++) {
        scroller.scrollTop -= 40;
        await new Promise((r) => requestAnimationFrame(() => r()));
        seen.push(active());
      }
      return seen;
    })()`)) as number[];
    expect(during.slice(2)).toEqual(new Array<number>(18).fill(0));

    // Once the scrolling stops the rows take the pointer again: the pointer moving a little
    // activates the row now under it.
    await a.page.waitForFunction(`!${LIST_PROBE}.scroller.classList.contains('scrolling')`, undefined, { timeout: UI_TIMEOUT });
    await a.page.mouse.move(x + 2, y + 2);
    await a.page.getByRole('toolbar', { name: 'Message actions' }).waitFor();

    // Back at the bottom, a new message scrolls the list by itself: the row under the pointer
    // keeps taking it (its actions stay clickable), since the reader did not scroll.
    await a.page.getByRole('button', { name: 'Jump to latest' }).click();
    await a.page.waitForFunction(`!${LIST_PROBE}.scroller.classList.contains('scrolling')`, undefined, { timeout: UI_TIMEOUT });
    const bottom = await messageRow(a.page, 'Line 78').boundingBox();
    if (!bottom) throw new Error('row not laid out');
    await a.page.mouse.move(bottom.x + bottom.width / 2, bottom.y + bottom.height / 2);
    await a.page.getByRole('toolbar', { name: 'Message actions' }).waitFor();
    await a.page.evaluate(`(() => {
      const { scroller } = ${LIST_PROBE};
      window.__held = false;
      new MutationObserver(() => { if (scroller.classList.contains('scrolling')) window.__held = true; }).observe(scroller, { attributes: true, attributeFilter: ['class'] });
      window.__scrolled = false;
      scroller.addEventListener('scroll', () => { window.__scrolled = true; });
    })()`);
    const fresh = (await room.send({ content: 'Line 81' })).id;
    await room.whenSent(fresh);
    await messageRow(a.page, 'Line 81').waitFor();
    await a.page.waitForFunction('window.__scrolled === true', undefined, { timeout: UI_TIMEOUT });
    expect(await a.page.evaluate('window.__held')).toBe(false);
    await seeder.close();
    await a.context.close();
  });
});
