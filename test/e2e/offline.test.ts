import { expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { createRoom, messageRow, newDevice, openRoom, screenshot, send, signIn, twoUsersInRoom, UI_TIMEOUT, describeInBrowser } from './support/appPage.ts';

/** The texts of the message rows in display order (deleted ones as a placeholder). */
const conversation = (page: Page): Promise<string[]> =>
  page.locator('parley-message').evaluateAll((rows) =>
    rows.map((row) => {
      const root = row.shadowRoot;
      const content = root?.querySelector('.content, .deleted')?.textContent ?? '';
      return `${row.getAttribute('data-message-id')}:${content.replace(/\s+/g, ' ').replace('(edited)', '').trim()}`;
    }),
  );

/** Resolves once the service worker controls the page, so reloads are served from its cache. */
const controlledByServiceWorker = (page: Page): Promise<unknown> =>
  page.waitForFunction(() => navigator.serviceWorker.controller !== null, undefined, { timeout: UI_TIMEOUT });

describeInBrowser('web app: offline', (suite) => {
  it('sends, edits and reacts offline; after reconnecting both screens agree and pending turns sent', async () => {
    const { a, b } = await twoUsersInRoom(suite, 'trip-planning');
    await send(b.page, 'Are we still on for Saturday?');
    await messageRow(a.page, 'Saturday').waitFor();

    await a.context.setOffline(true);
    await a.page.locator('[data-testid="connection-banner"][data-state="offline"]').waitFor();
    await send(a.page, 'Yes! Leaving at 9');
    await send(a.page, 'I will bring the map');
    await send(a.page, 'and snacks');
    for (const text of ['Leaving at 9', 'bring the map', 'and snacks']) {
      await messageRow(a.page, text).and(a.page.locator('[data-state="pending"]')).waitFor();
    }
    const mapId = await messageRow(a.page, 'bring the map').getAttribute('data-message-id');
    const map = a.page.locator(`parley-message[data-message-id="${mapId}"]`);
    await map.hover();
    await map.getByRole('button', { name: 'Edit message' }).click();
    await map.getByLabel('Edit message').fill('I will bring the map and the tent');
    await map.getByLabel('Edit message').press('Enter');
    const saturday = messageRow(a.page, 'Saturday');
    await saturday.hover();
    await saturday.getByRole('button', { name: 'Add reaction' }).click();
    await saturday.getByRole('menuitem', { name: 'React with 👍' }).click();
    await saturday.locator('[data-reaction="👍"]').waitFor();
    await screenshot(a.page, 'offline-pending');

    // Meanwhile Ben keeps talking; Ana sees none of it yet.
    await send(b.page, 'Great, see you there');
    await messageRow(b.page, 'see you there').and(b.page.locator('[data-state="sent"]')).waitFor();
    expect(await messageRow(a.page, 'see you there').count()).toBe(0);
    expect(await messageRow(b.page, 'Leaving at 9').count()).toBe(0);

    await a.context.setOffline(false);
    for (const text of ['Leaving at 9', 'the tent', 'and snacks']) {
      await messageRow(a.page, text).and(a.page.locator('[data-state="sent"]')).waitFor();
      await messageRow(b.page, text).waitFor();
    }
    await messageRow(a.page, 'see you there').waitFor();
    await messageRow(b.page, 'Saturday').locator('[data-reaction="👍"]').waitFor();
    await messageRow(b.page, 'the tent').getByTestId('edited').waitFor();
    await a.page.locator('[data-testid="connection-banner"]').waitFor({ state: 'detached' });
    expect(await conversation(a.page)).toEqual(await conversation(b.page));
    expect(await conversation(a.page)).toHaveLength(5);
    await a.context.close();
    await b.context.close();
  });

  it('reloads with no network: the app shell and every message load from the device', async () => {
    const { server, browser } = suite;
    const ana = await server.login('Ana Lima');
    const ben = await server.login('Ben Okafor');
    const roomId = await createRoom(server, ana, 'offline-reading', [ben]);
    const other = await createRoom(server, ben, 'second-room', [ana]);
    await server.api(ben, 'GET', '/api/rooms');
    const a = await newDevice(browser, server);
    await signIn(a.page, 'Ana Lima');
    await controlledByServiceWorker(a.page);
    await openRoom(a.page, roomId);
    for (const text of ['First note', 'Second note', 'Third note']) await send(a.page, text);
    await messageRow(a.page, 'Third note').and(a.page.locator('[data-state="sent"]')).waitFor();

    await a.context.setOffline(true);
    await a.page.reload();
    await a.page.locator(`[data-room-id="${other}"]`).waitFor();
    await a.page.locator('[data-testid="connection-banner"][data-state="offline"]').waitFor();
    for (const text of ['First note', 'Second note', 'Third note']) {
      await messageRow(a.page, text).and(a.page.locator('[data-state="sent"]')).waitFor();
    }
    await screenshot(a.page, 'offline-reload');
    await a.context.close();
  });
});
