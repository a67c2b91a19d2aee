import { expect, it } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import type { TestServer } from '../support/serverHarness.ts';
import { createRoom, messageRow, openRoom, screenshot, send, signIn, UI_TIMEOUT, describeInBrowser, type AppUser } from './support/appPage.ts';

interface WatchedDevice extends AppUser {
  /** What the page itself asked for; the service worker also precaches every asset in the background. */
  readonly pageRequested: readonly string[];
}

/**
 * newDevice, with every URL the context requests (the page's and its service worker's) recorded
 * in `requested` from the very first one.
 */
async function newWatchedDevice(browser: Browser, server: TestServer, requested: string[]): Promise<WatchedDevice> {
  const context = await browser.newContext({ viewport: { width: 1280, height: 800 }, serviceWorkers: 'allow' });
  context.setDefaultTimeout(UI_TIMEOUT);
  const pageRequested: string[] = [];
  context.on('request', (request) => {
    requested.push(request.url());
    if (!request.serviceWorker()) pageRequested.push(request.url());
  });
  const page = await context.newPage();
  page.on('pageerror', (error) => console.error(`[page error] ${error.message}`));
  await page.goto(server.url + '/');
  return { context, page, pageRequested };
}

const isPickerCode = (url: string): boolean => /\/assets\/picker-[\w-]+\.js$/.test(url);

/** Resolves once the focused element (looking into shadow roots) is the one labelled `label`. */
const focusOn = (page: Page, label: string): Promise<unknown> =>
  page.waitForFunction(
    (name) => {
      let active = document.activeElement;
      while (active?.shadowRoot?.activeElement) active = active.shadowRoot.activeElement;
      return active?.getAttribute('aria-label') === name;
    },
    label,
    { timeout: UI_TIMEOUT },
  );

/** Resolves once emoji-picker-element's IndexedDB database exists, or with `present` false, once it does not. */
const pickerDatabase = (page: Page, present: boolean): Promise<unknown> =>
  page.waitForFunction((want) => indexedDB.databases().then((dbs) => dbs.some((db) => db.name === 'emoji-picker-element-en') === want), present, { timeout: UI_TIMEOUT });

describeInBrowser('web app: emoji picker', (suite) => {
  it('reacts and writes with any emoji from the full picker, recent reactions first, all from this origin', async () => {
    const { server, browser } = suite;
    const ana = await server.login('Ana Lima');
    const ben = await server.login('Ben Okafor');
    const roomId = await createRoom(server, ana, 'launch-control', [ben]);
    const requested: string[] = [];
    const a = await newWatchedDevice(browser, server, requested);
    const b = await newWatchedDevice(browser, server, requested);
    await signIn(a.page, 'Ana Lima');
    await signIn(b.page, 'Ben Okafor');
    await openRoom(a.page, roomId);
    await openRoom(b.page, roomId);
    await send(b.page, 'Deploy is green');
    const row = messageRow(a.page, 'Deploy is green');
    await row.waitFor();

    // Opening the app and the room did not load the picker.
    expect(a.pageRequested.filter(isPickerCode)).toEqual([]);

    // Reaction from the full picker, found by name.
    await row.hover();
    await row.getByRole('button', { name: 'Add reaction' }).click();
    await row.getByRole('menuitem', { name: 'More emoji' }).click();
    const more = a.page.getByRole('dialog', { name: 'React with any emoji' });
    await more.getByRole('combobox', { name: 'Search' }).fill('rocket');
    const rocket = more.getByRole('option', { name: /^🚀, rocket/ });
    await rocket.waitFor();
    await screenshot(a.page, 'emoji-picker-reaction');
    await rocket.click();
    await more.waitFor({ state: 'detached' });
    await messageRow(b.page, 'Deploy is green').locator('[data-reaction="🚀"][aria-label="🚀 1: Ana Lima"]').waitFor();

    // The quick row now starts with it, and still offers the defaults after it.
    await row.hover();
    await row.getByRole('button', { name: 'Add reaction' }).click();
    const quick = row.getByRole('menu', { name: 'Add a reaction' });
    expect(await quick.getByRole('menuitem').first().getAttribute('aria-label')).toBe('React with 🚀');
    await quick.getByRole('menuitem', { name: 'React with 🎉' }).waitFor();

    // Escape closes one level at a time, each time back on the button that opened it.
    await quick.getByRole('menuitem', { name: 'More emoji' }).click();
    await more.getByRole('combobox', { name: 'Search' }).waitFor();
    await a.page.keyboard.press('Escape');
    await more.waitFor({ state: 'detached' });
    await focusOn(a.page, 'More emoji');
    await a.page.keyboard.press('Escape');
    await quick.waitFor({ state: 'detached' });
    await focusOn(a.page, 'Add reaction');

    // Composer: the emoji goes in at the caret (here the start) and typing carries on after it.
    const box = a.page.getByLabel('Message', { exact: true });
    await box.fill('Ready for launch');
    await box.press('Home');
    await a.page.getByRole('button', { name: 'Insert emoji' }).click();
    const insert = a.page.getByRole('dialog', { name: 'Insert an emoji' });
    await insert.getByRole('combobox', { name: 'Search' }).fill('rocket');
    await screenshot(a.page, 'emoji-picker-composer');
    await insert.getByRole('option', { name: /^🚀, rocket/ }).click();
    await insert.waitFor({ state: 'detached' });
    await a.page.keyboard.type(' ');
    await a.page.keyboard.press('Enter');
    await messageRow(b.page, '🚀 Ready for launch').waitFor();

    // Offline, a device that never opened the picker opens it from the service worker's cache.
    await b.page.waitForFunction(() => navigator.serviceWorker.controller !== null, undefined, { timeout: UI_TIMEOUT });
    await b.context.setOffline(true);
    await b.page.getByRole('button', { name: 'Insert emoji' }).click();
    const offline = b.page.getByRole('dialog', { name: 'Insert an emoji' });
    await offline.getByRole('combobox', { name: 'Search' }).fill('party popper');
    await offline.getByRole('option', { name: /^🎉/ }).click();
    await offline.waitFor({ state: 'detached' });
    expect(await b.page.getByLabel('Message', { exact: true }).inputValue()).toBe('🎉');

    // Signing out forgets what Ana picked: the next person on her device starts from the defaults.
    await pickerDatabase(a.page, true);
    await a.page.getByRole('button', { name: 'Sign out' }).click();
    await a.page.getByLabel('Your name').waitFor();
    await pickerDatabase(a.page, false);
    await signIn(a.page, 'Ben Okafor');
    await openRoom(a.page, roomId);
    const again = messageRow(a.page, 'Deploy is green');
    await again.hover();
    await again.getByRole('button', { name: 'Add reaction' }).click();
    expect(await again.getByRole('menuitem').first().getAttribute('aria-label')).toBe('React with 👍');

    // The picker's code and data came from this server, and nothing else was asked of anyone.
    expect(requested.filter((url) => !url.startsWith(`${server.url}/`))).toEqual([]);
    expect(a.pageRequested.filter(isPickerCode)).toHaveLength(1);
    expect(a.pageRequested.filter((url) => /\/assets\/data-[\w-]+\.json$/.test(url)).length).toBeGreaterThan(0);
    await a.context.close();
    await b.context.close();
  });
});
