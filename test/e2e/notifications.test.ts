import { expect, it } from 'vitest';
import * as Y from 'yjs';
import type { Page } from 'playwright-core';
import { createMessage } from '../../shared/roomDoc/messageOps.ts';
import { acknowledged, openProvider, synced, type TestServer, type TestUser } from '../support/serverHarness.ts';
import { UI_TIMEOUT, createRoom, messageRow, newDevice, openRoom, screenshot, send, signIn, describeInBrowser, type AppUser } from './support/appPage.ts';

/**
 * What the page records, installed before the app's scripts:
 *
 * - **Visibility.** Headless Chromium reports every page `visible`, whatever happens to its window
 *   (minimised through CDP's Browser.setWindowBounds, or behind another tab: checked on Chromium
 *   156), and CDP has no command to emulate it. So the test owns the two getters the app reads,
 *   `document.visibilityState` and `document.hidden`, and fires `visibilitychange` when it flips
 *   them (`__parleySetVisibility`), as the browser does when a tab goes to the background.
 * - **Notifications.** `window.Notification` is wrapped so each construction is recorded (title,
 *   body, tag) and the real notification kept, to click; the browser's own permission (granted to
 *   the context) and constructor stay in use.
 */
const PAGE_HOOKS = `(() => {
  let visibility = 'visible';
  Object.defineProperty(document, 'visibilityState', { configurable: true, get: () => visibility });
  Object.defineProperty(document, 'hidden', { configurable: true, get: () => visibility === 'hidden' });
  window.__parleySetVisibility = (state) => {
    visibility = state;
    document.dispatchEvent(new Event('visibilitychange'));
  };
  const Native = window.Notification;
  const shown = [];
  window.__parleyNotifications = shown;
  class Recorded extends Native {
    constructor(title, options) {
      super(title, options);
      shown.push({ title, body: options?.body ?? '', tag: options?.tag ?? '', notification: this });
    }
  }
  Object.defineProperty(Recorded, 'permission', { get: () => Native.permission });
  Recorded.requestPermission = (...args) => Native.requestPermission(...args);
  window.Notification = Recorded;
})();`;

interface Recorded {
  readonly title: string;
  readonly body: string;
  readonly tag: string;
}

declare global {
  interface Window {
    __parleySetVisibility(state: 'visible' | 'hidden'): void;
    __parleyNotifications: Array<Recorded & { notification: Notification }>;
  }
}

/** Ben's device: notifications granted to the app's origin, the hooks above installed. */
async function hookedDevice(suite: { server: TestServer; browser: import('playwright-core').Browser }): Promise<AppUser> {
  const context = await suite.browser.newContext({ viewport: { width: 1280, height: 800 }, serviceWorkers: 'allow' });
  context.setDefaultTimeout(UI_TIMEOUT);
  await context.grantPermissions(['notifications'], { origin: suite.server.url });
  await context.addInitScript({ content: PAGE_HOOKS });
  const page = await context.newPage();
  page.on('pageerror', (error) => console.error(`[page error] ${error.message}`));
  await page.goto(suite.server.url + '/');
  return { context, page };
}

const setVisibility = (page: Page, state: 'visible' | 'hidden'): Promise<void> => page.evaluate((s) => window.__parleySetVisibility(s), state);
const recorded = (page: Page): Promise<Recorded[]> => page.evaluate(() => window.__parleyNotifications.map(({ title, body, tag }) => ({ title, body, tag })));
const untilRecorded = (page: Page, count: number): Promise<unknown> => page.waitForFunction((n) => window.__parleyNotifications.length >= n, count, { timeout: UI_TIMEOUT });
const untilTitle = (page: Page, title: string): Promise<unknown> => page.waitForFunction((t) => document.title === t, title, { timeout: UI_TIMEOUT });

/** Ana writes as any Yjs client can (a stock provider): with mentions, which the app's composer does not write yet. */
async function anaWrites(server: TestServer, ana: TestUser, roomId: string, content: string, mentionedUsers?: readonly string[]): Promise<string> {
  const provider = openProvider(server.syncUrl, roomId, ana.token, { doc: new Y.Doc(), parley: true });
  try {
    await synced(provider);
    const written = createMessage(provider.doc, { userId: ana.id, role: 'member' }, { content, ...(mentionedUsers ? { mentionedUsers } : {}) });
    if (!written.ok) throw new Error(written.message);
    await acknowledged(provider);
    return written.id;
  } finally {
    provider.destroy();
  }
}

describeInBrowser('web app: notifications', (suite) => {
  it('a mention or a direct message to Ben while his page is hidden raises a notification that opens the room; the title counts unread rooms not muted', async () => {
    const { server, browser } = suite;
    const ana = await server.login('Ana Lima');
    const ben = await server.login('Ben Okafor');
    const launch = await createRoom(server, ana, 'launch', [ben]);
    const elsewhere = await createRoom(server, ana, 'elsewhere', [ben]);
    const direct = await createRoom(server, ana, '', [ben], 'direct');

    const b = await hookedDevice(suite);
    await signIn(b.page, 'Ben Okafor');
    await openRoom(b.page, elsewhere);
    // Permission is already granted: no prompt; nothing unread: the plain title.
    await untilTitle(b.page, 'Parley');
    expect(await b.page.getByTestId('notification-prompt').count()).toBe(0);

    const a = await newDevice(browser, server);
    await signIn(a.page, 'Ana Lima');
    await openRoom(a.page, launch);

    // Ben puts the tab in the background. Ana's plain message in the group is unread, not a notification.
    await setVisibility(b.page, 'hidden');
    await send(a.page, 'Morning all');
    await untilTitle(b.page, '(1) Parley');

    // Ana mentions Ben: a system notification, and the count.
    const mentionId = await anaWrites(server, ana, launch, 'Ben, can you review the launch notes?\nThey are in the doc.', [ben.id]);
    await untilRecorded(b.page, 1);
    await untilTitle(b.page, '(2) Parley');
    expect(await recorded(b.page)).toEqual([{ title: 'Ana Lima in launch', body: 'Ben, can you review the launch notes?', tag: mentionId }]);

    // A direct message notifies too, titled with the sender.
    const directId = await anaWrites(server, ana, direct, 'Lunch at noon?');
    await untilRecorded(b.page, 2);
    await untilTitle(b.page, '(3) Parley');
    expect((await recorded(b.page))[1]).toEqual({ title: 'Ana Lima', body: 'Lunch at noon?', tag: directId });
    await screenshot(b.page, 'notifications-hidden-title');

    // Ben comes back and clicks the mention's notification: the launch room opens, read to the end.
    await setVisibility(b.page, 'visible');
    await b.page.evaluate(() => window.__parleyNotifications[0]?.notification.dispatchEvent(new Event('click')));
    await b.page.locator('parley-room-view').getByRole('heading', { name: 'launch', exact: true }).waitFor();
    await messageRow(b.page, 'review the launch notes').waitFor();
    await untilTitle(b.page, '(1) Parley');

    // He mutes the launch room (on all his devices) and goes back to the background elsewhere.
    await b.page.getByRole('button', { name: 'Mute notifications' }).click();
    await b.page.getByRole('button', { name: 'Unmute notifications', pressed: true }).waitFor();
    await openRoom(b.page, elsewhere);
    await setVisibility(b.page, 'hidden');
    await anaWrites(server, ana, launch, 'Ben, one more thing', [ben.id]);
    // The room list shows it unread (muted, grey), after any notification the feed would have carried first.
    const muted = b.page.locator(`[data-room-id="${launch}"]`);
    await muted.getByTestId('room-muted').waitFor();
    await muted.getByTestId('unread-count').filter({ hasText: '1' }).waitFor();
    expect(await recorded(b.page)).toHaveLength(2);
    expect(await b.page.title()).toBe('(1) Parley');
    await screenshot(b.page, 'notifications-muted-room');

    await a.context.close();
    await b.context.close();
  });

  it('offers to turn notifications on once signed in, never asks on its own, and "Not now" puts the offer away', async () => {
    const { server, browser } = suite;
    const cleo = await server.login('Cleo Park');
    const dan = await server.login('Dan Ito');
    const roomId = await createRoom(server, cleo, 'design', [dan]);
    const c = await newDevice(browser, server);
    // Counts the app's permission requests (there must be none without a click on "Turn on").
    await c.context.addInitScript({
      content: `(() => { const ask = Notification.requestPermission.bind(Notification); window.__parleyAsked = 0; Notification.requestPermission = (...a) => { window.__parleyAsked++; return ask(...a); }; })();`,
    });
    await c.page.reload();
    const asked = (): Promise<number> => c.page.evaluate(() => (window as unknown as { __parleyAsked: number }).__parleyAsked);
    // Before signing in: no offer.
    await c.page.getByLabel('Your name').waitFor();
    expect(await c.page.getByTestId('notification-prompt').count()).toBe(0);
    await signIn(c.page, 'Cleo Park');
    await c.page.locator(`[data-room-id="${roomId}"]`).waitFor();
    const prompt = c.page.getByTestId('notification-prompt');
    await prompt.waitFor();
    expect(await asked()).toBe(0);
    await screenshot(c.page, 'notifications-prompt');
    await prompt.getByRole('button', { name: 'Not now' }).click();
    await prompt.waitFor({ state: 'detached' });
    // Still away after a reload (this device remembers), and the browser was never asked.
    await c.page.reload();
    await c.page.locator(`[data-room-id="${roomId}"]`).waitFor();
    expect(await c.page.getByTestId('notification-prompt').count()).toBe(0);
    expect(await asked()).toBe(0);
    expect(await c.page.evaluate(() => Notification.permission)).toBe('default');
    await c.context.close();
  });
});
