import { afterEach, describe, expect, it } from 'vitest';
import * as Y from 'yjs';
import type { WebsocketProvider } from 'y-websocket';
import { acknowledged, connectProvider, covers, startTestServer, synced, untilDoc, type TestServer, type TestUser } from '../../test/support/serverHarness.ts';
import { prng } from '../../test/support/prng.ts';
import { type Device, randomOperation, view } from '../../test/support/randomRoomOps.ts';

/*
 * Several devices of several users edit one room over real sockets while they drop off and come
 * back in random order, the room unloads whenever nobody is connected (idle timeout 0) and its
 * log is compacted in the worker every few updates. Afterwards every device, and a fresh client
 * after a server restart, must hold the same room. A failing seed reproduces exactly: keep it in
 * REGRESSION_SEEDS.
 */
const REGRESSION_SEEDS: number[] = [];
const SEEDS = [1, 2, 3, 4, 5];
const STEPS = 150;

describe('sync under disconnects, reconnects and room unloads', () => {
  let t: TestServer;
  const devices: Device[] = [];
  afterEach(async () => {
    for (const d of devices.splice(0)) d.provider.destroy();
    await t.dispose();
  });

  it.each([...REGRESSION_SEEDS, ...SEEDS])('every replica converges (seed %i)', async (seed) => {
    const rng = prng(seed);
    t = await startTestServer({ PARLEY_ROOM_IDLE_MS: '0', PARLEY_COMPACT_UPDATES: '10' });
    const users: TestUser[] = [await t.login('Ana'), await t.login('Ben'), await t.login('Cy')];
    const [ana, ben, cy] = users as [TestUser, TestUser, TestUser];
    const roomId = await t.createRoom(ana, [ben, cy]);
    // Ana has two devices; every device keeps its doc (and so its client id) across reconnects.
    // Every operation goes through shared/roomDoc, so the server's validator must accept all of them.
    const refusals: string[] = [];
    for (const user of [ana, ana, ben, cy]) {
      const provider = connectProvider(t, roomId, user, new Y.Doc(), { parley: true });
      provider.on('connection-close', (event: CloseEvent | null) => {
        if (event && event.code >= 4400 && event.code < 4500) refusals.push(`${event.code} ${event.reason}`);
      });
      devices.push({ provider, actor: { userId: user.id, role: user === ana ? 'owner' : 'member' } });
    }
    await Promise.all(devices.map((d) => synced(d.provider)));

    let unloads = 0;
    t.server.registry.onUnloaded(() => unloads++);
    for (let step = 0; step < STEPS; step++) {
      const device = rng.pick(devices);
      if (!device) continue;
      const { provider } = device;
      if (rng.chance(0.04)) {
        // A reconnect storm: everyone drops (the room unloads), then everyone comes back at once.
        const unloaded = t.server.registry.get(roomId) ? new Promise((resolve) => t.server.registry.onUnloaded(resolve)) : null;
        for (const d of devices) d.provider.disconnect();
        await unloaded;
        for (const d of devices) d.provider.connect();
      } else if (rng.chance(0.15)) {
        if (provider.shouldConnect) provider.disconnect();
        else provider.connect();
      } else {
        randomOperation(rng, device, step);
      }
      // Let the network move: one turn of the event loop per step, not a timed sleep.
      if (rng.chance(0.5)) await new Promise((resolve) => setImmediate(resolve));
    }

    expect(unloads).toBeGreaterThan(0);
    expect(refusals).toEqual([]);
    for (const { provider } of devices) if (!provider.shouldConnect) provider.connect();
    await Promise.all(devices.map((d) => synced(d.provider)));
    await Promise.all(devices.map((d) => acknowledged(d.provider)));
    // The server now holds the union of every device's changes; each device must catch up to it.
    const observer = connectProvider(t, roomId, ben);
    await synced(observer);
    const target = Y.decodeStateVector(Y.encodeStateVector(observer.doc));
    const caughtUp = (doc: Y.Doc) => covers(Y.decodeStateVector(Y.encodeStateVector(doc)), target);
    await Promise.all(devices.map((d) => untilDoc(d.provider.doc, caughtUp)));
    const expected = view(observer.doc);
    expect(expected.messages.length).toBeGreaterThan(0);
    for (const { provider } of devices) expect(view(provider.doc)).toEqual(expected);
    observer.destroy();

    // And it is all durable: after a restart a fresh client sees the same room.
    for (const { provider } of devices) provider.disconnect();
    await t.restart();
    const fresh = connectProvider(t, roomId, cy);
    await synced(fresh);
    await untilDoc(fresh.doc, caughtUp);
    expect(view(fresh.doc)).toEqual(expected);
    fresh.destroy();
  });
});
