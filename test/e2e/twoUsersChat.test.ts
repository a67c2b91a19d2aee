import { expect, it } from 'vitest';
import { createRoom, messageRow, newDevice, openRoom, screenshot, send, signIn, describeInBrowser } from './support/appPage.ts';

describeInBrowser('web app: two users chat', (suite) => {
  it('messages, an edit, a delete, reactions and read receipts reach the other side', async () => {
    const { server, browser } = suite;
    const ana = await server.login('Ana Lima');
    const ben = await server.login('Ben Okafor');
    const roomId = await createRoom(server, ana, 'design-team', [ben]);

    const a = await newDevice(browser, server);
    const b = await newDevice(browser, server);
    await a.page.getByLabel('Your name').waitFor();
    await screenshot(a.page, 'sign-in');
    await signIn(a.page, 'Ana Lima');
    await signIn(b.page, 'Ben Okafor');
    await screenshot(b.page, 'room-list');
    await openRoom(a.page, roomId);
    await openRoom(b.page, roomId);
    // The contract the load benchmark measures: one mark once the room's newest messages painted.
    await a.page.waitForFunction(() => performance.getEntriesByName('parley:room-painted').length === 1);

    await send(a.page, 'Morning! The new onboarding flow is ready for review.');
    await send(a.page, 'Link is in the doc, comments welcome 🙌');
    await messageRow(b.page, 'onboarding flow').waitFor();
    await send(b.page, 'Nice, looking now');
    await send(b.page, 'typo: the second screen says "Contiue"');
    await messageRow(a.page, 'Contiue').waitFor();
    expect(await messageRow(a.page, 'Contiue').locator('.sender, .content').allInnerTexts()).toBeTruthy();

    // Ana's message turns sent once the server has it.
    await messageRow(a.page, 'onboarding flow').and(a.page.locator('[data-state="sent"]')).waitFor();

    // Edit: Ben fixes his typo; Ana sees the new text and "(edited)".
    const typoId = await messageRow(b.page, 'Contiue').getAttribute('data-message-id');
    const typo = b.page.locator(`parley-message[data-message-id="${typoId}"]`);
    await typo.hover();
    await typo.getByRole('button', { name: 'Edit message' }).click();
    const editor = typo.getByLabel('Edit message');
    await editor.fill('typo: the second screen says "Contiue" (should be Continue)');
    await editor.press('Enter');
    await messageRow(a.page, 'should be Continue').getByTestId('edited').waitFor();

    // Delete: Ana deletes her second message; Ben sees the placeholder.
    const link = messageRow(a.page, 'comments welcome');
    await link.hover();
    await link.getByRole('button', { name: 'Delete message' }).click();
    await screenshot(a.page, 'delete-confirmation');
    await link.getByRole('alertdialog', { name: 'Delete this message?' }).getByRole('button', { name: 'Delete' }).click();
    await b.page.getByTestId('deleted').waitFor();
    expect(await messageRow(b.page, 'comments welcome').count()).toBe(0);

    // Reactions: both react to Ana's first message; counts and who reacted show on both sides.
    const first = messageRow(b.page, 'onboarding flow');
    await first.hover();
    await first.getByRole('button', { name: 'Add reaction' }).click();
    await first.getByRole('menuitem', { name: 'React with 🎉' }).click();
    const onAna = messageRow(a.page, 'onboarding flow').locator('[data-reaction="🎉"]');
    await onAna.waitFor();
    await onAna.click(); // Ana adds hers by clicking the chip
    await b.page.locator('[data-reaction="🎉"][aria-label="🎉 2: You, Ana Lima"]').waitFor();
    await a.page.locator('[data-reaction="🎉"][aria-label="🎉 2: Ben Okafor, You"]').waitFor();

    // Read receipts: Ana has read Ben's last message, so Ben sees "Seen by Ana" under it.
    await messageRow(b.page, 'should be Continue').getByTestId('read-receipts').and(b.page.getByLabel('Seen by Ana Lima')).waitFor();
    await screenshot(a.page, 'room-view');
    await screenshot(b.page, 'room-view-other-side');

    await a.context.close();
    await b.context.close();
  });

  it('creates a group from the app, adds a member, and the other user gets it and can leave', async () => {
    const { server, browser } = suite;
    // Everyone signs up first: only users who have signed in once can be found and added.
    for (const name of ['Ana Lima', 'Ben Okafor', 'Cleo Park']) await server.login(name);
    const a = await newDevice(browser, server);
    const b = await newDevice(browser, server);
    await signIn(a.page, 'Ana Lima');
    await signIn(b.page, 'Ben Okafor');

    await a.page.getByRole('button', { name: 'New conversation' }).click();
    const dialog = a.page.getByRole('dialog', { name: 'New conversation' });
    await dialog.getByLabel('Group name').fill('launch-week');
    await dialog.getByLabel('Add people').fill('Ben');
    await dialog.getByRole('button', { name: 'Ben Okafor' }).click();
    await screenshot(a.page, 'new-room-dialog');
    await dialog.getByRole('button', { name: 'Create group' }).click();
    await a.page.locator('[data-testid="message-scroller"]').waitFor();
    await send(a.page, 'Kick-off at 10');
    // On the server before anything else happens (a failure here is Ana's side, not Ben's).
    await a.page.locator('parley-message[data-state="sent"]').filter({ hasText: 'Kick-off at 10' }).waitFor();

    // Ana adds Cleo from the member panel and makes Ben an admin.
    await a.page.getByRole('button', { name: 'Members' }).click();
    const panel = a.page.locator('parley-member-panel');
    await panel.getByLabel('Add people').fill('Cle');
    await panel.getByRole('button', { name: 'Add Cleo Park' }).click();
    await panel.locator('li[data-user-id]').filter({ hasText: 'Cleo Park' }).waitFor();
    await panel.getByLabel('Role of Ben Okafor').selectOption('admin');
    await screenshot(a.page, 'member-panel');

    // Ben has the room without a reload (the user feed) and sees the message; then leaves it.
    const entry = b.page.locator('[data-room-id]').filter({ hasText: 'launch-week' });
    await entry.click();
    await messageRow(b.page, 'Kick-off at 10').waitFor();
    await b.page.getByRole('button', { name: 'Members' }).click();
    await b.page.locator('parley-member-panel li[data-user-id]').filter({ hasText: 'Ben Okafor' }).filter({ hasText: 'admin' }).waitFor();
    await b.page.getByRole('button', { name: 'Leave conversation' }).click();
    await entry.waitFor({ state: 'detached' });
    await a.context.close();
    await b.context.close();
  });
});
