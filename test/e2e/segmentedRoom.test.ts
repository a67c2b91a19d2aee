import { expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { withSegmentedHistory } from '../support/seededRooms.ts';
import { SEGMENT_MAX_MESSAGES } from '../../shared/roomDoc/segments.ts';
import { PAGE_SIZE } from '../../client/ui/controllers/RoomController.ts';
import { createRoom, messageRow, newDevice, openRoom, send, signIn, describeInBrowser, UI_TIMEOUT } from './support/appPage.ts';

/** Two sealed segments and an open one holding more than a page, so the newest page needs only the open one. */
const OPEN_COUNT = PAGE_SIZE + 10;
const COUNT = 2 * SEGMENT_MAX_MESSAGES + OPEN_COUNT;

/** The ids of the rendered rows, top to bottom. */
const rowIds = (page: Page): Promise<string[]> =>
  page.locator('parley-message').evaluateAll((rows) => rows.map((r) => r.getAttribute('data-message-id') ?? ''));

describeInBrowser('web app: a room in segments', (suite) => {
  it('paints the newest messages, scrolls back into an older segment, and sends into the open one', async () => {
    const { server, browser } = suite;
    const ana = await server.login('Ana Lima');
    const ben = await server.login('Ben Okafor');
    const roomId = await createRoom(server, ana, 'segmented', [ben]);
    const ids = await withSegmentedHistory(server, roomId, ben.id, COUNT);

    const a = await newDevice(browser, server);
    await signIn(a.page, 'Ana Lima');
    await openRoom(a.page, roomId);
    const newest = ids.at(-1) ?? '';
    await a.page.locator(`parley-message[data-message-id="${newest}"]`).waitFor();
    expect(await rowIds(a.page)).toEqual(ids.slice(-PAGE_SIZE));

    // Scrolling back past the open segment's first message needs segment 1, fetched on demand.
    const scroller = a.page.locator('[data-testid="message-scroller"]');
    const boundary = ids[2 * SEGMENT_MAX_MESSAGES - 1] ?? '';
    for (let i = 0; i < 3 && !(await rowIds(a.page)).includes(boundary); i++) {
      const top = (await rowIds(a.page))[0];
      await scroller.evaluate((el) => {
        el.scrollTop = 0;
      });
      await a.page.waitForFunction(
        (id) => {
          const list = document.querySelector('parley-app')?.shadowRoot?.querySelector('parley-room-view')?.shadowRoot?.querySelector('parley-message-list')?.shadowRoot;
          return list?.querySelector('parley-message')?.getAttribute('data-message-id') !== id;
        },
        top,
        { timeout: UI_TIMEOUT },
      );
    }
    const shown = await rowIds(a.page);
    expect(shown).toContain(boundary);
    // In order, with no gap across the boundary.
    const from = ids.indexOf(shown[0] ?? '');
    expect(shown).toEqual(ids.slice(from, from + shown.length));

    // Offline, a reload shows the newest messages from the device.
    await a.page.waitForFunction(() => navigator.serviceWorker.controller !== null, undefined, { timeout: UI_TIMEOUT });
    await a.page.locator('[data-testid="message-scroller"]').evaluate((el) => {
      el.scrollTop = el.scrollHeight;
    });
    await a.context.setOffline(true);
    await a.page.reload();
    await a.page.locator(`parley-message[data-message-id="${newest}"]`).waitFor();
    expect((await rowIds(a.page)).slice(-10)).toEqual(ids.slice(-10));
    await a.context.setOffline(false);

    // A message sent now lands at the bottom of the newest page, and Ben's device sees it.
    await send(a.page, 'after the history');
    await messageRow(a.page, 'after the history').waitFor();
    const b = await newDevice(browser, server);
    await signIn(b.page, 'Ben Okafor');
    // Open by route, as a link or a reload would.
    await b.page.evaluate((id) => {
      location.hash = `#/rooms/${encodeURIComponent(id)}`;
    }, roomId);
    await messageRow(b.page, 'after the history').waitFor();
    expect((await rowIds(b.page)).slice(0, -1)).toEqual(ids.slice(-(PAGE_SIZE - 1)));
    await a.context.close();
    await b.context.close();
  });
});
