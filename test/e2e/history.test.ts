import { expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { freshDbName, openTestClient } from '../support/clientHarness.ts';
import { createRoom, messageRow, newDevice, openRoom, screenshot, signIn, UI_TIMEOUT, describeInBrowser } from './support/appPage.ts';
import { MAX_WINDOW, PAGE_SIZE } from '../../client/ui/controllers/RoomController.ts';

const COUNT = 600;

/** Scrolls the message list to its top, which asks for the page before. */
const scrollToTop = (page: Page): Promise<void> =>
  page.locator('[data-testid="message-scroller"]').evaluate((el) => {
    el.scrollTop = 0;
  });

describeInBrowser('web app: history', (suite) => {
  it(`scrolls back through ${COUNT} messages with a bounded number of rows and a stable position`, async () => {
    const { server, browser } = suite;
    const ana = await server.login('Ana Lima');
    const ben = await server.login('Ben Okafor');
    const roomId = await createRoom(server, ana, 'history', [ben]);
    const seeder = await openTestClient({ serverUrl: server.url, token: ben.token, dbName: freshDbName('seed') });
    const room = await seeder.openRoom(roomId);
    let last = '';
    for (let i = 1; i <= COUNT; i++) last = (await room.send({ content: `Message number ${i}` })).id;
    await room.whenSent(last);
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
