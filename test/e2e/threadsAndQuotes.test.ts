import { expect, it } from 'vitest';
import type { Locator, Page } from 'playwright-core';
import { UI_TIMEOUT, screenshot, send, twoUsersInRoom, describeInBrowser } from './support/appPage.ts';

/** A row of the room's own list (the main timeline), not of the thread panel. */
const timelineRow = (page: Page, text: string): Locator => page.locator('parley-message-list parley-message').filter({ hasText: text });
const threadPanel = (page: Page): Locator => page.locator('parley-thread-panel');
const threadRow = (page: Page, text: string): Locator => threadPanel(page).locator('parley-message').filter({ hasText: text });

async function replyInThread(page: Page, text: string, alsoToRoom = false): Promise<void> {
  const panel = threadPanel(page);
  if (alsoToRoom) await panel.getByLabel('Also send to room').check();
  const box = panel.getByLabel('Message', { exact: true });
  await box.fill(text);
  await box.press('Enter');
}

describeInBrowser('web app: threads and quotes', (suite) => {
  it('Ben replies in a thread; Ana sees the count and the new-reply badge, opens the thread and reads it; a reply also sent to the room shows in both', async () => {
    const { a, b } = await twoUsersInRoom(suite, 'threads');
    await send(a.page, 'Deploy plan for Friday');
    await send(a.page, 'Unrelated note');

    const root = timelineRow(b.page, 'Deploy plan for Friday');
    await root.waitFor({ timeout: UI_TIMEOUT });
    await root.hover();
    await root.getByRole('button', { name: 'Reply in thread' }).click();
    await threadRow(b.page, 'Deploy plan for Friday').waitFor();
    await replyInThread(b.page, 'Looks good to me');
    await threadRow(b.page, 'Looks good to me').waitFor();

    // Ana: the root says one reply, one new; the reply is not in the main timeline.
    const anaRoot = timelineRow(a.page, 'Deploy plan for Friday');
    await anaRoot.getByTestId('reply-count').filter({ hasText: '1 reply' }).waitFor({ timeout: UI_TIMEOUT });
    await anaRoot.getByTestId('thread-unread').filter({ hasText: '1 new' }).waitFor({ timeout: UI_TIMEOUT });
    expect(await timelineRow(a.page, 'Looks good to me').count()).toBe(0);
    await screenshot(a.page, 'thread-reply-line');

    // Opening the thread shows the reply and reads it: the badge goes.
    await anaRoot.getByTestId('reply-line').click();
    await threadRow(a.page, 'Looks good to me').waitFor({ timeout: UI_TIMEOUT });
    await anaRoot.getByTestId('thread-unread').waitFor({ state: 'detached', timeout: UI_TIMEOUT });
    await screenshot(a.page, 'thread-panel');

    // A reply also sent to the room: in Ana's thread and in her main timeline, marked as a thread reply.
    await replyInThread(b.page, 'Shipping it at noon', true);
    await threadRow(a.page, 'Shipping it at noon').waitFor({ timeout: UI_TIMEOUT });
    const inRoom = timelineRow(a.page, 'Shipping it at noon');
    await inRoom.getByTestId('in-thread').waitFor({ timeout: UI_TIMEOUT });
    await anaRoot.getByTestId('reply-count').filter({ hasText: '2 replies' }).waitFor({ timeout: UI_TIMEOUT });
    // Ana answers in the thread herself: she joins its participants on Ben's side.
    await replyInThread(a.page, 'Thanks both');
    await timelineRow(b.page, 'Deploy plan for Friday').getByTestId('reply-count').filter({ hasText: '3 replies' }).waitFor({ timeout: UI_TIMEOUT });
    expect(await timelineRow(b.page, 'Deploy plan for Friday').locator('.reply-faces parley-avatar').count()).toBe(2);

    // Closing the thread gives the side back; "View thread" on the reply in the room opens it again.
    await threadPanel(a.page).getByRole('button', { name: 'Close thread' }).click();
    await threadPanel(a.page).waitFor({ state: 'detached' });
    await inRoom.getByTestId('in-thread').click();
    await threadRow(a.page, 'Thanks both').waitFor({ timeout: UI_TIMEOUT });
  });

  it('Ben quotes Ana; her edit and then her deletion show in his quote on both sides', async () => {
    const { a, b } = await twoUsersInRoom(suite, 'quotes');
    await send(a.page, 'The meeting is at 3pm\nRoom B, second floor');

    const original = timelineRow(b.page, 'The meeting is at 3pm');
    await original.waitFor({ timeout: UI_TIMEOUT });
    await original.hover();
    await original.getByRole('button', { name: 'Quote message' }).click();
    const bar = b.page.getByTestId('quoting');
    await bar.filter({ hasText: 'The meeting is at 3pm' }).waitFor();
    await send(b.page, 'I will be there');
    await bar.waitFor({ state: 'detached' });

    // The quote shows the sender and the first line only.
    const quoteOn = (page: Page): Locator => timelineRow(page, 'I will be there').getByTestId('quoted');
    await quoteOn(a.page).filter({ hasText: 'Ana Lima' }).filter({ hasText: 'The meeting is at 3pm' }).waitFor({ timeout: UI_TIMEOUT });
    expect(await quoteOn(a.page).innerText()).not.toContain('Room B');
    await screenshot(a.page, 'quoted-reply');

    // Ana edits: the quote follows on both sides.
    // Found by id: while the editor is open, the row shows no text to find it by.
    const ownId = await timelineRow(a.page, 'The meeting is at 3pm').filter({ hasNot: a.page.getByTestId('quoted') }).getAttribute('data-message-id');
    const own = a.page.locator(`parley-message-list parley-message[data-message-id="${ownId}"]`);
    await own.hover();
    await own.getByRole('button', { name: 'Edit message' }).click();
    await own.getByLabel('Edit message').fill('The meeting is at 4pm');
    await own.getByLabel('Edit message').press('Enter');
    await quoteOn(b.page).filter({ hasText: 'The meeting is at 4pm' }).waitFor({ timeout: UI_TIMEOUT });
    await quoteOn(a.page).filter({ hasText: 'The meeting is at 4pm' }).waitFor({ timeout: UI_TIMEOUT });

    // Ana deletes it: the quote says so and keeps none of the text.
    await own.hover();
    await own.getByRole('button', { name: 'Delete message' }).click();
    await own.getByRole('alertdialog', { name: 'Delete this message?' }).getByRole('button', { name: 'Delete' }).click();
    await quoteOn(b.page).filter({ hasText: 'Original message deleted' }).waitFor({ timeout: UI_TIMEOUT });
    expect(await quoteOn(b.page).innerText()).not.toContain('4pm');
    await screenshot(b.page, 'quoted-deleted');
  });
});
