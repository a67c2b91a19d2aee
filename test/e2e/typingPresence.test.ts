import { it } from 'vitest';
import { createRoom, newDevice, openRoom, screenshot, signIn, describeInBrowser } from './support/appPage.ts';

describeInBrowser('web app: typing and presence', (suite) => {
  it('the typing line and the presence dot appear and clear', async () => {
    const { server, browser } = suite;
    const ana = await server.login('Ana Lima');
    const ben = await server.login('Ben Okafor');
    const direct = await createRoom(server, ana, '', [ben], 'direct');
    const a = await newDevice(browser, server);
    await signIn(a.page, 'Ana Lima');
    await openRoom(a.page, direct);
    const dot = a.page.locator(`[data-room-id="${direct}"] [data-testid="presence-dot"]`);
    await dot.and(a.page.locator('[data-online="false"]')).waitFor();

    // Ben comes online in the direct chat: his dot turns green in Ana's member list.
    const b = await newDevice(browser, server, { width: 360, height: 740 });
    await signIn(b.page, 'Ben Okafor');
    await screenshot(b.page, 'phone-room-list');
    await openRoom(b.page, direct);
    await a.page.getByRole('button', { name: 'Members' }).click();
    const benRow = a.page.locator(`parley-member-panel li[data-user-id="${ben.id}"]`);
    await benRow.getByTestId('member-presence').filter({ hasText: /^online/ }).waitFor();
    await dot.and(a.page.locator('[data-online="true"]')).waitFor();

    // Typing appears for Ana, then clears when Ben sends.
    await b.page.getByLabel('Message', { exact: true }).pressSequentially('On my w');
    await a.page.getByTestId('typing-line').filter({ hasText: 'Ben Okafor is typing…' }).waitFor();
    await screenshot(a.page, 'typing-and-members');
    await screenshot(b.page, 'phone-room-view');
    await b.page.getByLabel('Message', { exact: true }).press('Enter');
    await a.page.getByTestId('typing-line').filter({ hasText: /^$/ }).waitFor();

    // Ben leaves: he goes offline in Ana's member list, with a last-seen time.
    await b.context.close();
    await benRow.getByTestId('member-presence').filter({ hasText: /last seen/ }).waitFor();
    await dot.and(a.page.locator('[data-online="false"]')).waitFor();
    await a.context.close();
  });
});
