import { afterEach, describe, expect, it } from 'vitest';
import * as Y from 'yjs';
import { covers, openProvider, startTestServer, synced, untilDoc, type TestServer, type TestUser } from '../../test/support/serverHarness.ts';
import { FlakyProxy } from '../../test/support/flakyProxy.ts';
import { prng } from '../../test/support/prng.ts';
import { type Device, randomOperation, view } from '../../test/support/randomRoomOps.ts';

/*
 * Stock y-websocket providers (no Parley SDK; half of them with `parley=1`) of three users with
 * two devices each chat at random, each device through its own proxy that delays, stalls and cuts
 * its connection, so devices write offline and write again the moment they are back, before
 * their sync step 2 went out. Then every link heals. Every write made on any device must reach
 * the server, every replica must converge, and no provider may end in a final close (y-websocket
 * gives up for good on a 44xx close code). A failing seed reproduces its operations exactly
 * (network timing varies): keep it in REGRESSION_SEEDS.
 */
const REGRESSION_SEEDS: number[] = [];
const SEEDS = [101, 102, 103];
const STEPS = 160;

interface FlakyDevice extends Device {
  readonly proxy: FlakyProxy;
}

describe('stock y-websocket clients on flaky links', () => {
  let t: TestServer;
  const devices: FlakyDevice[] = [];
  afterEach(async () => {
    for (const d of devices.splice(0)) {
      d.provider.destroy();
      await d.proxy.close();
    }
    await t.dispose();
  });

  it.each([...REGRESSION_SEEDS, ...SEEDS])('every write reaches the server and every replica converges (seed %i)', async (seed) => {
    const rng = prng(seed);
    t = await startTestServer();
    const users: TestUser[] = [await t.login('Ana'), await t.login('Ben'), await t.login('Cy')];
    const [ana, ben, cy] = users as [TestUser, TestUser, TestUser];
    const roomId = await t.createRoom(ana, [ben, cy]);
    const port = Number(new URL(t.url).port);
    const finalCloses: string[] = [];
    let failed: (error: Error) => void = () => {};
    const finalClose = new Promise<never>((_, reject) => (failed = reject));
    finalClose.catch(() => {});
    /** `work`, unless a provider gave up for good first. */
    const unlessGivenUp = <T,>(work: Promise<T>): Promise<T> => Promise.race([work, finalClose]);
    for (const [i, user] of [ana, ana, ben, ben, cy, cy].entries()) {
      const proxy = await FlakyProxy.start({ host: '127.0.0.1', port });
      const provider = openProvider(`ws://127.0.0.1:${proxy.port}/sync`, roomId, user.token, { doc: new Y.Doc(), parley: i % 2 === 0 });
      // y-websocket 3 emits 'closed' when it stops reconnecting for good.
      provider.on('closed', (event: { code: number; reason: string }) => {
        finalCloses.push(`${user.name}: ${event.code} ${event.reason}`);
        failed(new Error(`a provider of ${user.name} stopped for good: ${event.code} ${event.reason}`));
      });
      devices.push({ provider, proxy, actor: { userId: user.id, role: user === ana ? 'owner' : 'member' } });
    }
    await Promise.all(devices.map((d) => synced(d.provider)));

    const stalls: Array<Promise<void>> = [];
    for (let step = 0; step < STEPS; step++) {
      const device = rng.pick(devices);
      if (!device) continue;
      const roll = rng.int(20);
      if (roll === 0) device.proxy.cut();
      else if (roll === 1) {
        // Stalled for a while: what the device writes meanwhile waits in the proxy, or is lost with a cut.
        device.proxy.stall();
        stalls.push(new Promise((resolve) => setTimeout(resolve, 50 + rng.int(300))).then(() => device.proxy.release()));
      } else if (roll === 2) device.proxy.delay(rng.int(150));
      else randomOperation(rng, device, step);
      // The pace of people typing: real time passes, so that reconnects, backoffs and delays play out.
      await new Promise((resolve) => setTimeout(resolve, rng.int(25)));
    }
    await Promise.all(stalls);
    for (const d of devices) d.proxy.heal();

    // Every device's own writes reach the server...
    const room = t.server.registry.get(roomId);
    if (!room) throw new Error('the room is not loaded');
    const stateOf = (doc: Y.Doc) => Y.decodeStateVector(Y.encodeStateVector(doc));
    await unlessGivenUp(untilDoc(room.doc, (doc) => devices.every((d) => covers(stateOf(doc), new Map([[d.provider.doc.clientID, Y.getState(d.provider.doc.store, d.provider.doc.clientID)]])))));
    // ...and every device catches up with the server.
    const target = stateOf(room.doc);
    await unlessGivenUp(Promise.all(devices.map((d) => untilDoc(d.provider.doc, (doc) => covers(stateOf(doc), target)))));
    expect(finalCloses).toEqual([]);
    const expected = view(room.doc);
    expect(expected.messages.length).toBeGreaterThan(10);
    for (const { provider } of devices) expect(view(provider.doc)).toEqual(expected);
  });
});
