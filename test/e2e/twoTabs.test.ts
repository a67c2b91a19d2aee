import { it } from 'vitest';
import { createRoom, messageRow, newDevice, openRoom, send, signIn, describeInBrowser } from './support/appPage.ts';

describeInBrowser('web app: two tabs of one user', (suite) => {
  it('a message sent in one tab shows in the other, and the read position follows', async () => {
    const { server, browser } = suite;
    const ana = await server.login('Ana Lima');
    const ben = await server.login('Ben Okafor');
    const roomId = await createRoom(server, ana, 'release', [ben]);
    const quiet = await createRoom(server, ana, 'random', [ben]);
    const a = await newDevice(browser, server);
    await signIn(a.page, 'Ana Lima');
    // A second tab of the same browser profile: same session, same database, another client id.
    const tab2 = await a.context.newPage();
    await tab2.goto(server.url + `/#/rooms/${roomId}`);
    await tab2.locator('[data-testid="message-scroller"]').waitFor();
    await openRoom(a.page, roomId);

    await send(a.page, 'Shipping 2.4 today');
    await messageRow(tab2, 'Shipping 2.4').waitFor();
    await send(tab2, 'Changelog is drafted');
    await messageRow(a.page, 'Changelog').waitFor();

    // Tab 2 moves to another room; Ben writes in the release room. Tab 1 (in the room) reads it,
    // so tab 2's room list shows the new message with nothing unread.
    await openRoom(tab2, quiet);
    const b = await newDevice(browser, server);
    await signIn(b.page, 'Ben Okafor');
    await openRoom(b.page, roomId);
    await send(b.page, 'Go for it, QA signed off');
    await messageRow(a.page, 'QA signed off').waitFor();
    const entry = tab2.locator(`[data-room-id="${roomId}"]`);
    await entry.getByTestId('room-preview').filter({ hasText: 'QA signed off' }).waitFor();
    await entry.getByTestId('unread-count').waitFor({ state: 'detached' });
    // And Ben sees that Ana has read it.
    await messageRow(b.page, 'QA signed off').getByLabel('Seen by Ana Lima').waitFor();
    await a.context.close();
    await b.context.close();
  });
});
