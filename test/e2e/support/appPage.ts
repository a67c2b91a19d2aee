import { mkdirSync } from 'node:fs';
import path from 'node:path';
import type { Browser, BrowserContext, Locator, Page } from 'playwright-core';
import { afterAll, beforeAll, describe } from 'vitest';
import type { TestServer, TestUser } from '../../support/serverHarness.ts';
import { browserSuiteName, browserTestsRun, launchChromium } from '../../support/chromium.ts';
import { startWebAppServer } from '../../support/webApp.ts';

/** Where each run's screenshots go (git-ignored). */
export const SCREENSHOT_DIR = path.resolve('test-results', 'screenshots');

export interface AppUser {
  readonly context: BrowserContext;
  readonly page: Page;
}

/** Longest a UI expectation waits: sync over real sockets on a busy 2-core machine. */
export const UI_TIMEOUT = 15_000;

/** A fresh browser context (its own storage: a separate device) at the app. */
export async function newDevice(browser: Browser, server: TestServer, viewport = { width: 1280, height: 800 }): Promise<AppUser> {
  const context = await browser.newContext({ viewport, serviceWorkers: 'allow' });
  context.setDefaultTimeout(UI_TIMEOUT);
  const page = await context.newPage();
  page.on('pageerror', (error) => console.error(`[page error] ${error.message}`));
  // The app's own warnings and errors go to the test's output: a failed run is read from them.
  page.on('console', (message) => {
    if (message.type() === 'error' || message.type() === 'warning') console.error(`[page ${message.type()}] ${message.text()}`);
  });
  await page.goto(server.url + '/');
  return { context, page };
}

/** Signs in by name through the sign-in form and waits for the room list. */
export async function signIn(page: Page, name: string): Promise<void> {
  await page.getByLabel('Your name').fill(name);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.locator('parley-room-list').waitFor();
}

/** A room created through the REST API, with a name, as `owner`. */
export async function createRoom(server: TestServer, owner: TestUser, name: string, members: readonly TestUser[], type: 'group' | 'direct' = 'group'): Promise<string> {
  const res = await server.api(owner, 'POST', '/api/rooms', { type, name: type === 'direct' ? null : name, members: members.map((m) => ({ user_id: m.id })) });
  if (res.status !== 201) throw new Error(`creating a room failed: ${res.status} ${JSON.stringify(res.body)}`);
  return (res.body as { id: string }).id;
}

/** Opens a room from the room list and waits for its message list. */
export async function openRoom(page: Page, roomId: string): Promise<void> {
  await page.locator(`[data-room-id="${roomId}"]`).click();
  await page.locator('[data-testid="message-scroller"]').waitFor();
}

export async function send(page: Page, text: string): Promise<void> {
  const box = page.getByLabel('Message', { exact: true });
  await box.fill(text);
  await box.press('Enter');
}

export interface TwoUsersInRoom {
  readonly ana: TestUser;
  readonly ben: TestUser;
  readonly roomId: string;
  /** Ana's and Ben's devices, signed in, the room open on both. */
  readonly a: AppUser;
  readonly b: AppUser;
}

/** Ana creates room `name` with Ben; each signs in on a device of their own and opens it. */
export async function twoUsersInRoom({ server, browser }: BrowserSuite, name: string): Promise<TwoUsersInRoom> {
  const ana = await server.login('Ana Lima');
  const ben = await server.login('Ben Okafor');
  const roomId = await createRoom(server, ana, name, [ben]);
  const a = await newDevice(browser, server);
  const b = await newDevice(browser, server);
  await signIn(a.page, 'Ana Lima');
  await signIn(b.page, 'Ben Okafor');
  await openRoom(a.page, roomId);
  await openRoom(b.page, roomId);
  return { ana, ben, roomId, a, b };
}

/** The row of the message whose text contains `text`. */
export const messageRow = (page: Page, text: string): Locator => page.locator('parley-message').filter({ hasText: text });

/** Waits until the locator's attribute has the value (auto-retrying, no sleeps). */
export async function waitForAttribute(page: Page, selector: string, name: string, value: string): Promise<void> {
  await page.waitForFunction(
    ([sel, attr, val]) => {
      const find = (root: Document | ShadowRoot): Element | null => {
        const hit = root.querySelector(sel as string);
        if (hit) return hit;
        for (const el of root.querySelectorAll('*')) {
          const inner = el.shadowRoot ? find(el.shadowRoot) : null;
          if (inner) return inner;
        }
        return null;
      };
      return find(document)?.getAttribute(attr as string) === val;
    },
    [selector, name, value],
    { timeout: UI_TIMEOUT },
  );
}

export async function screenshot(page: Page, name: string): Promise<void> {
  mkdirSync(SCREENSHOT_DIR, { recursive: true });
  await page.screenshot({ path: path.join(SCREENSHOT_DIR, `${name}.png`) });
}

export interface BrowserSuite {
  readonly server: TestServer;
  readonly browser: Browser;
}

/**
 * A browser test file's suite: the real server on a free port serving the built app, and one
 * Chromium, both started once for the file. Without a browser it is skipped with the reason in
 * its name, except in CI, where it fails.
 */
export function describeInBrowser(name: string, body: (suite: BrowserSuite) => void): void {
  let server: TestServer | undefined;
  let browser: Browser | undefined;
  const suite: BrowserSuite = {
    get server() {
      if (!server) throw new Error('the suite has not started its server');
      return server;
    },
    get browser() {
      if (!browser) throw new Error('the suite has not started its browser');
      return browser;
    },
  };
  describe.runIf(browserTestsRun())(browserSuiteName(name), () => {
    beforeAll(async () => {
      server = await startWebAppServer();
      browser = await launchChromium();
    });
    afterAll(async () => {
      await browser?.close();
      await server?.dispose();
    });
    body(suite);
  });
}
