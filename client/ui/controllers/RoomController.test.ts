import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { RoomController } from './RoomController.ts';
import { startWithRoom } from '../../../test/support/serverHarness.ts';
import { allSent, freshDbName, openTestClient, until } from '../../../test/support/clientHarness.ts';

const cleanup: Array<() => Promise<void>> = [];
// The controller paints on animation frames, reads the page's visibility and tells its element
// about presence: Node has none of these, so a visible page without elements stands in.
beforeAll(() => {
  vi.stubGlobal('requestAnimationFrame', (callback: FrameRequestCallback) => setTimeout(() => callback(performance.now()), 0));
  vi.stubGlobal('cancelAnimationFrame', (handle: ReturnType<typeof setTimeout>) => clearTimeout(handle));
  vi.stubGlobal('document', { visibilityState: 'visible' });
  vi.stubGlobal('HTMLElement', class {});
});
afterAll(async () => {
  for (const fn of cleanup.reverse()) await fn();
  vi.unstubAllGlobals();
});

describe('RoomController', () => {
  it('keeps a message sent while the room is still opening, and sends it once the room is open', async () => {
    const { t, ana, roomId } = await startWithRoom();
    cleanup.push(() => t.dispose());
    const client = await openTestClient({ serverUrl: t.url, token: ana.token, dbName: freshDbName('controller-send') });
    cleanup.push(() => client.close());
    const controller = new RoomController({ addController: () => undefined, removeController: () => undefined, requestUpdate: () => undefined, updateComplete: Promise.resolve(true) });
    const shown = controller.show(client, roomId);
    // The composer is on screen before the room has loaded: Enter now must not lose the text.
    expect(controller.room).toBeNull();
    const sent = controller.send('typed before the room opened');
    await Promise.all([shown, sent]);
    const room = controller.room;
    if (!room) throw new Error('the room did not open');
    const message = room.messages().messages.find((m) => m.content === 'typed before the room opened');
    expect(message).toBeDefined();
    await until((c) => room.on('states', c), () => allSent(room, [message?.id ?? '']), 'the message to be sent');
    expect(controller.error).toBeNull();
  });
});
