import { expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { UI_TIMEOUT, createRoom, messageRow, openRoom, screenshot, send, twoUsersInRoom, describeInBrowser } from './support/appPage.ts';

/** Set by the script in a message below if it ever ran. */
const pwned = (page: Page): Promise<unknown> => page.evaluate(() => Reflect.get(window, '__pwned'));

describeInBrowser('web app: pins and mentions', (suite) => {
  it('the owner pins a message; the other user sees it marked and in the pinned list, and cannot pin', async () => {
    const { a, b } = await twoUsersInRoom(suite, 'pins');
    await send(a.page, 'Release checklist: tests, notes, tag');
    await send(b.page, 'Thanks, on it');
    const row = messageRow(a.page, 'Release checklist');
    await row.hover();
    await row.getByRole('button', { name: 'Pin message' }).click();

    // Ben sees the mark on the message and the message in the header's list.
    await messageRow(b.page, 'Release checklist').getByTestId('pinned-mark').waitFor({ timeout: UI_TIMEOUT });
    await b.page.getByTestId('pinned-toggle').click();
    const item = b.page.getByTestId('pinned-panel').getByTestId('pinned-item');
    await item.filter({ hasText: 'Release checklist' }).waitFor();
    expect(await item.count()).toBe(1);
    await screenshot(b.page, 'pinned-list');
    await item.click();
    await expect.poll(() => b.page.getByTestId('pinned-panel').count()).toBe(0);

    // A member has no pin action.
    const own = messageRow(b.page, 'Thanks, on it');
    await own.hover();
    expect(await own.getByRole('button', { name: 'Pin message' }).count()).toBe(0);

    // Unpinned by the owner: the mark goes on Ben's side too.
    await row.hover();
    await row.getByRole('button', { name: 'Unpin message' }).click();
    await messageRow(b.page, 'Release checklist').getByTestId('pinned-mark').waitFor({ state: 'detached', timeout: UI_TIMEOUT });
  });

  it('@ autocomplete picks a member; the other user gets the mention badge and sees the mention highlighted', async () => {
    const { ana, ben, roomId, a, b } = await twoUsersInRoom(suite, 'mentions');
    // Ben looks at another room, so the first one counts the mention in his list.
    const elsewhere = await createRoom(suite.server, ana, 'elsewhere', [ben]);
    await b.page.locator(`[data-room-id="${elsewhere}"]`).waitFor({ timeout: UI_TIMEOUT });
    await openRoom(b.page, elsewhere);

    const box = a.page.getByLabel('Message', { exact: true });
    await box.pressSequentially('please review @Be');
    const option = a.page.getByRole('option', { name: 'Ben Okafor' });
    await option.waitFor();
    await screenshot(a.page, 'mention-autocomplete');
    await box.press('Enter');
    expect(await box.inputValue()).toBe('please review @Ben Okafor ');
    expect(await a.page.getByRole('listbox').count()).toBe(0);
    await box.pressSequentially('today');
    await box.press('Enter');
    // Ana sees it as a mention of someone else.
    await messageRow(a.page, 'please review').locator('.mention:not(.mine)').waitFor();

    // Ben's list shows the mention on the room he is not in.
    const badge = b.page.locator(`[data-room-id="${roomId}"]`).getByTestId('mention-count');
    await badge.waitFor({ timeout: UI_TIMEOUT });
    expect(await badge.innerText()).toBe('@1');
    await openRoom(b.page, roomId);
    const mine = messageRow(b.page, 'please review').locator('.mention.mine');
    await mine.waitFor({ timeout: UI_TIMEOUT });
    expect(await mine.innerText()).toBe('@Ben Okafor');
    await screenshot(b.page, 'mention-highlighted');
    // Read now: the badge goes.
    await badge.waitFor({ state: 'detached', timeout: UI_TIMEOUT });
  });

  it('a mention inside a Markdown message is highlighted while the Markdown renders; code keeps its text and raw HTML stays text', async () => {
    const { a, b } = await twoUsersInRoom(suite, 'mentions-markdown');
    const box = a.page.getByLabel('Message', { exact: true });
    await box.pressSequentially('**hey** @Be');
    await a.page.getByRole('option', { name: 'Ben Okafor' }).waitFor();
    await box.press('Enter');
    await box.pressSequentially('see `code` and `@Ben Okafor` <script>window.__pwned=1</script>');
    await box.press('Enter');

    const row = messageRow(b.page, 'see code');
    const body = row.locator('.md-body');
    await body.waitFor({ timeout: UI_TIMEOUT });
    // The Markdown rendered around the mention...
    await body.locator('strong', { hasText: 'hey' }).waitFor();
    await body.locator('code', { hasText: /^code$/ }).waitFor();
    // ...the mention outside code is Ben's own, highlighted; the one inside code stays code.
    const mine = body.locator('.mention.mine');
    await mine.waitFor();
    expect(await mine.count()).toBe(1);
    expect(await mine.innerText()).toBe('@Ben Okafor');
    expect(await body.locator('code', { hasText: '@Ben Okafor' }).locator('.mention').count()).toBe(0);
    // Nothing in the text became markup: no script element, the tag shows as typed, and it never ran.
    expect(await row.locator('script').count()).toBe(0);
    await body.getByText('<script>window.__pwned=1</script>', { exact: false }).waitFor();
    expect(await body.locator('strong, code, span.mention, p, br').count()).toBe(await body.locator('*').count());
    expect(await pwned(b.page)).toBeUndefined();
    expect(await pwned(a.page)).toBeUndefined();
    // The sender sees it as a mention of someone else, in the same rendered Markdown.
    await messageRow(a.page, 'see code').locator('.md-body strong', { hasText: 'hey' }).waitFor();
    await messageRow(a.page, 'see code').locator('.md-body .mention:not(.mine)').waitFor();
    await screenshot(b.page, 'mention-in-markdown');
  });
});
