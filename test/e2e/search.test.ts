import { expect, it } from 'vitest';
import { UI_TIMEOUT, createRoom, messageRow, openRoom, screenshot, send, twoUsersInRoom, describeInBrowser } from './support/appPage.ts';

describeInBrowser('web app: search', (suite) => {
  it('finds messages across rooms with the words marked and HTML kept as text; a result opens its room at that message; offline it answers from the device', async () => {
    const { a, b, ana, ben } = await twoUsersInRoom(suite, 'orchard');
    const other = await createRoom(suite.server, ana, 'market', [ben]);
    await send(b.page, 'The apricot trees need water <b>today</b>');
    await send(b.page, 'Unrelated chatter');
    for (let i = 0; i < 30; i++) await send(a.page, `filler message ${i}`);
    await messageRow(a.page, 'filler message 29').waitFor();
    await openRoom(b.page, other);
    await send(b.page, 'Apricots are cheap at the market');
    await messageRow(b.page, 'cheap at the market').and(b.page.locator('[data-state="sent"]')).waitFor();

    const search = a.page.getByLabel('Search messages');
    await search.fill('apricot');
    const results = a.page.getByTestId('search-results');
    const groups = results.getByTestId('search-group');
    await expect.poll(() => groups.count(), { timeout: UI_TIMEOUT }).toBe(2);
    const hit = results.getByTestId('search-hit').filter({ hasText: 'trees need water' });
    await hit.waitFor();
    // The matched word is marked; the message's HTML is text, not markup.
    expect(await hit.locator('mark').first().innerText()).toMatch(/^apricot/i);
    expect(await hit.innerText()).toContain('<b>today</b>');
    expect(await hit.locator('b').count()).toBe(0);
    await screenshot(a.page, 'search-results');

    // Choosing it opens the room at that message, scrolled up past the fillers.
    await hit.click();
    await a.page.waitForFunction(() => location.hash.includes('/messages/'));
    const row = messageRow(a.page, 'The apricot trees need water');
    await row.waitFor({ timeout: UI_TIMEOUT });
    await expect.poll(() => row.isVisible()).toBe(true);

    // Offline, the device answers alone and says so.
    await a.context.setOffline(true);
    await a.page.locator('[data-testid="connection-banner"][data-state="offline"]').waitFor();
    await search.fill('');
    await search.fill('apricot');
    await results.getByTestId('search-offline').waitFor({ timeout: UI_TIMEOUT });
    await results.getByTestId('search-hit').filter({ hasText: 'trees need water' }).waitFor();
    await screenshot(a.page, 'search-offline');
    await a.context.setOffline(false);
  });
});
