import { expect, it } from 'vitest';
import { createRoom, describeInBrowser, newDevice, openRoom, screenshot, send, signIn } from './support/appPage.ts';

describeInBrowser('web app: one connection per device and a live room list', (suite) => {
  it('opens one WebSocket for 20 rooms, and rooms others create, rename and remove me from follow without a reload', async () => {
    const { server, browser } = suite;
    const ana = await server.login('Ana Feed');
    const ben = await server.login('Ben Feed');
    const cleo = await server.login('Cleo Feed');
    const rooms: string[] = [];
    for (let i = 0; i < 20; i++) rooms.push(await createRoom(server, i % 2 === 0 ? ben : cleo, `room ${i}`, [ana]));

    const a = await newDevice(browser, server);
    const sockets: string[] = [];
    a.page.on('websocket', (ws) => sockets.push(new URL(ws.url()).pathname));
    await signIn(a.page, 'Ana Feed');
    for (const roomId of rooms) await a.page.locator(`[data-room-id="${roomId}"]`).waitFor();
    await openRoom(a.page, rooms[3]!);
    await send(a.page, 'hello from the one socket');
    await a.page.locator('parley-message[data-state="sent"]').filter({ hasText: 'hello from the one socket' }).waitFor();

    // Ben starts a room with Ana and renames another: both show, no reload.
    const fresh = await createRoom(server, ben, 'made just now', [ana]);
    await a.page.locator(`[data-room-id="${fresh}"]`).filter({ hasText: 'made just now' }).waitFor();
    expect((await server.api(ben, 'PATCH', `/api/rooms/${rooms[0]}`, { name: 'renamed elsewhere' })).status).toBe(200);
    await a.page.locator(`[data-room-id="${rooms[0]}"]`).filter({ hasText: 'renamed elsewhere' }).waitFor();

    // A message in a room Ana has not opened: its unread badge.
    const writer = await server.login('Ben Feed');
    expect(writer.id).toBe(ben.id);
    const benDevice = await newDevice(browser, server);
    await signIn(benDevice.page, 'Ben Feed');
    await openRoom(benDevice.page, rooms[4]!);
    await send(benDevice.page, 'are you around?');
    await a.page.locator(`[data-room-id="${rooms[4]}"]`).filter({ hasText: 'are you around?' }).locator('.badge').waitFor();

    // Cleo removes Ana from the room she has open: it says so, and the composer goes.
    expect((await server.api(cleo, 'DELETE', `/api/rooms/${rooms[3]}/members/${ana.id}`)).status).toBe(204);
    await a.page.getByTestId('room-notice').filter({ hasText: 'You are no longer a member of this room' }).waitFor();
    await screenshot(a.page, 'room-lost');
    expect(await a.page.getByLabel('Message', { exact: true }).count()).toBe(0);
    expect(await a.page.getByTestId('connection-banner').count()).toBe(0);

    expect(sockets).toEqual(['/ws/sync']);
    await benDevice.context.close();
    await a.context.close();
  });

  it('a new user with no rooms sees an empty list, not a connection problem; signing out deletes their data and the next user starts clean', async () => {
    const { server, browser } = suite;
    const d = await newDevice(browser, server);
    await signIn(d.page, 'Dana Empty');
    await d.page.getByText('No conversations yet').waitFor();
    // Online: no banner (the feed answered, though no room is open).
    await d.page.getByTestId('connection-banner').waitFor({ state: 'detached' });
    const dana = await server.login('Dana Empty');
    const eve = await server.login('Eve Next');
    const shared = await createRoom(server, dana, 'dana only', []);
    await d.page.locator(`[data-room-id="${shared}"]`).waitFor();
    await openRoom(d.page, shared);
    const names = async (): Promise<string[]> => (await d.page.evaluate(() => indexedDB.databases())).map((db) => db.name ?? '');
    expect(await names()).toContain(`parley:${dana.id}`);

    await d.page.getByRole('button', { name: 'Sign out' }).click();
    await d.page.getByLabel('Your name').waitFor();
    await d.page.waitForFunction((name) => indexedDB.databases().then((dbs) => !dbs.some((db) => db.name === name)), `parley:${dana.id}`);
    await signIn(d.page, 'Eve Next');
    expect(await d.page.locator(`[data-room-id="${shared}"]`).count()).toBe(0);
    expect(await d.page.locator('[data-testid="message-scroller"]').count()).toBe(0);
    expect(eve.id).not.toBe(dana.id);
    await d.context.close();
  });
});
