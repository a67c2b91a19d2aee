import { expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import type { ChatClient } from '../../client/ChatClient.ts';
import type { ChatRoom } from '../../client/room/ChatRoom.ts';
import { MAX_WINDOW } from '../../client/ui/controllers/RoomController.ts';
import { SEGMENT_MAX_MESSAGES } from '../../shared/roomDoc/segments.ts';
import { withSegmentedHistory } from '../support/seededRooms.ts';
import type { TestUser } from '../support/serverHarness.ts';
import { freshDbName, openTestClient, until, untilOnline } from '../support/clientHarness.ts';
import { createRoom, messageRow, newDevice, screenshot, signIn, describeInBrowser, UI_TIMEOUT, type AppUser, type BrowserSuite } from './support/appPage.ts';

interface Seeded {
  readonly client: ChatClient;
  readonly room: ChatRoom;
  /** The message Ben read before he left the room. */
  readonly read: string;
}

/** Ana and Ben in `name` (and in "elsewhere"); Ana writes one message through the SDK, and Ben reads it in the app, then goes to "elsewhere". */
/**
 * Ana and Ben share room `name` and room 'elsewhere'; Ben, signed in on device b, reads `name`
 * (Ana's first message) and goes to 'elsewhere'. Ana writes through the SDK (`client`, `room`).
 */
async function benReadsAndLeaves({ server, browser }: BrowserSuite, name: string): Promise<Seeded & { roomId: string; elsewhere: string; ana: TestUser; ben: TestUser; b: AppUser }> {
  const ana = await server.login('Ana Lima');
  const ben = await server.login('Ben Okafor');
  const elsewhere = await createRoom(server, ana, 'elsewhere', [ben]);
  const b = await newDevice(browser, server);
  await signIn(b.page, 'Ben Okafor');
  const roomId = await createRoom(server, ana, name, [ben]);
  const client = await openTestClient({ serverUrl: server.url, token: ana.token, dbName: freshDbName('unread') });
  const room = await client.openRoom(roomId);
  const read = (await room.send({ content: `Before Ben left ${name}` })).id;
  await room.whenSent(read);
  await show(b.page, roomId, name);
  await messageRow(b.page, `Before Ben left ${name}`).waitFor();
  await until((check) => room.on('change', check), () => room.readPosition(ben.id) === read, "Ben's read position");
  await show(b.page, elsewhere, 'elsewhere');
  return { client, room, read, roomId, elsewhere, ana, ben, b };
}

/** Sends `count` messages through the SDK (fast: no typing); their ids, oldest first. */
async function sendMany(room: ChatRoom, count: number, label: string): Promise<string[]> {
  const ids: string[] = [];
  for (let i = 1; i <= count; i++) ids.push((await room.send({ content: `${label} ${i}` })).id);
  await room.whenSent(ids.at(-1) ?? '');
  return ids;
}

/** Opens a room from the list and waits until the room view shows it (its title). */
async function show(page: Page, roomId: string, title: string): Promise<void> {
  await page.locator(`[data-room-id="${roomId}"]`).click();
  await page.locator('parley-room-view').getByRole('heading', { name: title, exact: true }).waitFor();
  await page.locator('[data-testid="message-scroller"]').waitFor();
}

/** Waits until the room decided where it opens (the log is no longer busy). */
const settled = (page: Page): Promise<unknown> => page.locator('[data-testid="message-scroller"][aria-busy="false"]').waitFor();

/** Where message `id`'s row is, relative to the scroller's viewport: its top, and the viewport's height. */
async function placeOf(page: Page, id: string): Promise<{ top: number; height: number } | null> {
  const scroller = await page.locator('[data-testid="message-scroller"]').boundingBox();
  const row = await page.locator(`parley-message[data-message-id="${id}"]`).boundingBox();
  return scroller && row ? { top: row.y - scroller.y, height: scroller.height } : null;
}

/** Waits until message `id` is in view in the top half of the list (scrolled there once its rows rendered). */
const inTopHalf = (page: Page, id: string): Promise<unknown> =>
  page.waitForFunction(
    (rowId) => {
      const list = document.querySelector('parley-app')?.shadowRoot?.querySelector('parley-room-view')?.shadowRoot?.querySelector('parley-message-list')?.shadowRoot;
      const scroller = list?.querySelector<HTMLElement>('[data-testid="message-scroller"]');
      const row = list?.querySelector(`parley-message[data-message-id="${rowId}"]`);
      if (!scroller || !row) return false;
      const top = row.getBoundingClientRect().top - scroller.getBoundingClientRect().top;
      return top >= 0 && top < scroller.clientHeight / 2;
    },
    id,
    { timeout: UI_TIMEOUT },
  );

/** The divider is directly above message `id`, and that message is in view in the top half of the list. */
async function expectDividerAbove(page: Page, id: string): Promise<void> {
  const divider = page.getByTestId('unread-divider');
  await divider.waitFor();
  await inTopHalf(page, id);
  expect(await divider.getAttribute('role')).toBe('separator');
  expect(await divider.evaluate((el) => el.nextElementSibling?.getAttribute('data-message-id'))).toBe(id);
  expect(await page.getByTestId('unread-divider').count()).toBe(1);
  const place = await placeOf(page, id);
  expect(place).not.toBeNull();
  expect(place?.top).toBeGreaterThanOrEqual(0);
  expect(place?.top).toBeLessThan((place?.height ?? 0) / 2);
}

/** Scrolls down page by page (each load of newer messages keeps the reader in place) until `newest` is rendered, then to the bottom. */
async function scrollToNewest(page: Page, newest: string): Promise<void> {
  const scroller = page.locator('[data-testid="message-scroller"]');
  const lastRow = (): Promise<string | null> => page.locator('parley-message').last().getAttribute('data-message-id');
  for (let last = await lastRow(); last !== newest; last = await lastRow()) {
    await scroller.evaluate((el) => {
      el.scrollTop = el.scrollHeight;
    });
    await page.waitForFunction(
      (id) => {
        const list = document.querySelector('parley-app')?.shadowRoot?.querySelector('parley-room-view')?.shadowRoot?.querySelector('parley-message-list')?.shadowRoot;
        return [...(list?.querySelectorAll('parley-message') ?? [])].at(-1)?.getAttribute('data-message-id') !== id;
      },
      last,
      { timeout: UI_TIMEOUT },
    );
  }
  await scroller.evaluate((el) => {
    el.scrollTop = el.scrollHeight;
  });
}

const paintMarks = (page: Page): Promise<number> => page.evaluate(() => performance.getEntriesByName('parley:room-painted').length);

describeInBrowser('web app: unread divider', (suite) => {
  it('opens a room at the first unread message, marks nothing read until the bottom, and not again once read', async () => {
    const { client, room, read, roomId, elsewhere, ben, b } = await benReadsAndLeaves(suite, 'launch');

    const unread = await sendMany(room, 120, 'While Ben was away');
    const entry = b.page.locator(`[data-room-id="${roomId}"]`);
    await b.page.locator(`[data-room-id="${roomId}"][aria-label*="120 unread"]`).waitFor();
    const marks = await paintMarks(b.page);

    await show(b.page, roomId, 'launch');
    await settled(b.page);
    await expectDividerAbove(b.page, unread[0] ?? '');
    await screenshot(b.page, 'unread-divider');
    // Painted once the first unread is on screen, once for this opening.
    await b.page.waitForFunction((n) => performance.getEntriesByName('parley:room-painted').length === n + 1, marks, { timeout: UI_TIMEOUT });
    expect(await b.page.getByTestId('jump-to-unread').count()).toBe(0);

    // Opening read nothing: a reaction Ben adds now reaches Ana after any read position he could
    // have written on opening (one document, in order), and his position is still where it was.
    const first = b.page.locator(`parley-message[data-message-id="${unread[0]}"]`);
    await first.hover();
    await first.getByRole('button', { name: 'Add reaction' }).click();
    await first.getByRole('menuitem', { name: 'React with 🎉' }).click();
    await until((check) => room.on('change', check), () => (room.getMessage(unread[0] ?? '')?.reactions['🎉'] ?? []).includes(ben.id), "Ben's reaction");
    expect(room.readPosition(ben.id)).toBe(read);
    expect(await entry.getAttribute('aria-label')).toContain('120 unread');

    // Reading down to the newest message marks it read.
    await scrollToNewest(b.page, unread.at(-1) ?? '');
    await until((check) => room.on('change', check), () => room.readPosition(ben.id) === unread.at(-1), "Ben's read position at the newest");
    await entry.getByTestId('unread-count').waitFor({ state: 'detached' });
    expect(await b.page.locator('parley-message').count()).toBeLessThanOrEqual(MAX_WINDOW);
    // The divider stays where it was placed while the room is open (the window still holds it).
    expect(await b.page.getByTestId('unread-divider').evaluate((el) => el.nextElementSibling?.getAttribute('data-message-id'))).toBe(unread[0]);

    // Reopened with nothing unread: at the bottom, no divider.
    await show(b.page, elsewhere, 'elsewhere');
    await show(b.page, roomId, 'launch');
    await b.page.locator(`parley-message[data-message-id="${unread.at(-1)}"]`).waitFor();
    await settled(b.page);
    expect(await b.page.getByTestId('unread-divider').count()).toBe(0);
    expect(await b.page.getByTestId('jump-to-unread').count()).toBe(0);
    const newest = await placeOf(b.page, unread.at(-1) ?? '');
    expect(newest?.top).toBeLessThan(newest?.height ?? 0);
    await client.close();
    await b.context.close();
  });

  it('brings a first unread message far beyond the window back with "Jump to first unread"', async () => {
    const { client, room, roomId, b } = await benReadsAndLeaves(suite, 'backlog');
    const unread = await sendMany(room, 400, 'Backlog');
    await b.page.locator(`[data-room-id="${roomId}"][aria-label*="400 unread"]`).waitFor();

    await show(b.page, roomId, 'backlog');
    await settled(b.page);
    await expectDividerAbove(b.page, unread[0] ?? '');

    // The newest messages are 400 further: the first unread leaves the window.
    await b.page.getByRole('button', { name: 'Jump to latest' }).click();
    await b.page.locator(`parley-message[data-message-id="${unread.at(-1)}"]`).waitFor();
    const jump = b.page.getByTestId('jump-to-unread');
    await jump.waitFor();
    expect(await jump.getByRole('button', { name: /Jump to first unread/ }).innerText()).toContain('400 new');
    expect(await b.page.locator(`parley-message[data-message-id="${unread[0]}"]`).count()).toBe(0);
    await screenshot(b.page, 'jump-to-first-unread');

    await jump.getByRole('button', { name: /Jump to first unread/ }).click();
    await b.page.locator(`parley-message[data-message-id="${unread[0]}"]`).waitFor();
    await jump.waitFor({ state: 'detached' });
    await expectDividerAbove(b.page, unread[0] ?? '');
    expect(await b.page.locator('parley-message').count()).toBeLessThanOrEqual(MAX_WINDOW);

    // Dismissed, it stays away.
    await b.page.getByRole('button', { name: 'Jump to latest' }).click();
    await jump.waitFor();
    await jump.getByRole('button', { name: 'Dismiss jump to first unread' }).click();
    await jump.waitFor({ state: 'detached' });
    await client.close();
    await b.context.close();
  });

  it('opens at the bottom when all that is new is mine', async () => {
    const { server } = suite;
    const { client, roomId, ben, b } = await benReadsAndLeaves(suite, 'mine');
    // Ben writes from another device meanwhile: his own messages are not unread.
    const phone = await openTestClient({ serverUrl: server.url, token: ben.token, dbName: freshDbName('phone') });
    const mine = await sendMany(await phone.openRoom(roomId), 60, 'From my phone');
    const marks = await paintMarks(b.page);

    await show(b.page, roomId, 'mine');
    await b.page.locator(`parley-message[data-message-id="${mine.at(-1)}"]`).waitFor();
    await settled(b.page);
    await b.page.waitForFunction((n) => performance.getEntriesByName('parley:room-painted').length === n + 1, marks, { timeout: UI_TIMEOUT });
    expect(await b.page.getByTestId('unread-divider').count()).toBe(0);
    expect(await b.page.getByTestId('jump-to-unread').count()).toBe(0);
    expect(await b.page.getByRole('button', { name: 'Jump to latest' }).count()).toBe(0);
    const atBottom = await b.page.locator('[data-testid="message-scroller"]').evaluate((el) => el.scrollHeight - el.scrollTop - el.clientHeight < 24);
    expect(atBottom).toBe(true);
    await phone.close();
    await client.close();
    await b.context.close();
  });

  it('in a room in segments, opens at a first unread message in an older segment', async () => {
    const { server, browser } = suite;
    const ana = await server.login('Ana Lima');
    const ben = await server.login('Ben Okafor');
    const roomId = await createRoom(server, ana, 'archive', [ben]);
    const ids = await withSegmentedHistory(server, roomId, ana.id, 2 * SEGMENT_MAX_MESSAGES + 60);
    // Ben read up to ten messages before the end of the first segment, on another device.
    const read = ids[SEGMENT_MAX_MESSAGES - 11] ?? '';
    const phone = await openTestClient({ serverUrl: server.url, token: ben.token, dbName: freshDbName('phone') });
    const onPhone = await phone.openRoom(roomId);
    await untilOnline(onPhone);
    await onPhone.loadHistory({ beforeId: ids[SEGMENT_MAX_MESSAGES - 10] ?? '' });
    await onPhone.markRead(read);
    const watcher = await openTestClient({ serverUrl: server.url, token: ana.token, dbName: freshDbName('watch') });
    const watched = await watcher.openRoom(roomId);
    await until((check) => watched.on('change', check), () => watched.readPosition(ben.id) === read, "Ben's read position on the server");

    const b = await newDevice(browser, server);
    await signIn(b.page, 'Ben Okafor');
    await show(b.page, roomId, 'archive');
    await settled(b.page);
    const first = ids[SEGMENT_MAX_MESSAGES - 10] ?? '';
    await expectDividerAbove(b.page, first);
    // The window runs on across the segment boundary, in order, with context above.
    const shown = await b.page.locator('parley-message').evaluateAll((rows) => rows.map((r) => r.getAttribute('data-message-id') ?? ''));
    const from = ids.indexOf(shown[0] ?? '');
    expect(from).toBeLessThan(ids.indexOf(first));
    expect(shown).toEqual(ids.slice(from, from + shown.length));
    expect(shown).toContain(ids[SEGMENT_MAX_MESSAGES]);
    expect(watched.readPosition(ben.id)).toBe(read);
    await phone.close();
    await watcher.close();
    await b.context.close();
  });
});
