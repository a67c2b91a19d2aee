import * as Y from 'yjs';
import { covers, openProvider, synced, untilDoc, type TestServer, type TestUser } from './serverHarness.ts';
import { FlakyProxy } from './flakyProxy.ts';
import { prng } from './prng.ts';
import { type Device, randomOperation, view } from './randomRoomOps.ts';

/*
 * Stock y-websocket providers (no Parley SDK; every other one with `parley=1`) of three users with
 * two devices each chat at random, each device through its own proxy that delays, stalls and cuts
 * its connection, so devices write offline and write again the moment they are back, before their
 * sync step 2 went out. Then every link heals and everything must converge. Shared by the test
 * (server/sync/flakyStockClients.test.ts, short) and the soak probe (bench/probes/flakySoak.ts, long).
 */

export interface FlakyChatOptions {
  readonly seed: number;
  /** Stop after this many steps, or after this long, whichever comes first. */
  readonly steps: number;
  readonly durationMs?: number;
}

export interface FlakyChatOutcome {
  /** Every provider that stopped for good (y-websocket's 'closed'), as "user: code reason". */
  readonly finalCloses: string[];
  readonly steps: number;
  readonly cuts: number;
  readonly stalls: number;
  readonly operations: number;
  /** Messages in the room once everything converged (the server's view). */
  readonly messages: number;
  /** Thread replies the server holds (shown in the room or not). */
  readonly replies: number;
  /** Milliseconds from healing every link until every write was on the server and every device had everything. */
  readonly convergedAfterMs: number;
  /** Devices whose view differs from the server's after convergence (must be 0). */
  readonly divergentDevices: number;
}

interface FlakyDevice extends Device {
  readonly proxy: FlakyProxy;
}

export async function runFlakyChat(t: TestServer, opts: FlakyChatOptions): Promise<FlakyChatOutcome> {
  const rng = prng(opts.seed);
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
  const devices: FlakyDevice[] = [];
  try {
    for (const [i, user] of [ana, ana, ben, ben, cy, cy].entries()) {
      const proxy = await FlakyProxy.start({ host: '127.0.0.1', port });
      const provider = openProvider(`ws://127.0.0.1:${proxy.port}/sync`, roomId, user.token, { doc: new Y.Doc(), parley: i % 2 === 0 });
      provider.on('closed', (event: { code: number; reason: string }) => {
        finalCloses.push(`${user.name}: ${event.code} ${event.reason}`);
        failed(new Error(`a provider of ${user.name} stopped for good: ${event.code} ${event.reason}`));
      });
      devices.push({ provider, proxy, actor: { userId: user.id, role: user === ana ? 'owner' : 'member' } });
    }
    await Promise.all(devices.map((d) => synced(d.provider)));

    const started = performance.now();
    const stalls: Array<Promise<void>> = [];
    let steps = 0;
    let cuts = 0;
    let operations = 0;
    for (; steps < opts.steps && (opts.durationMs === undefined || performance.now() - started < opts.durationMs); steps++) {
      const device = rng.pick(devices);
      if (!device) continue;
      const roll = rng.int(20);
      if (roll === 0) {
        device.proxy.cut();
        cuts++;
      } else if (roll === 1) {
        // Stalled for a while: what the device writes meanwhile waits in the proxy, or is lost with a cut.
        device.proxy.stall();
        stalls.push(new Promise((resolve) => setTimeout(resolve, 50 + rng.int(300))).then(() => device.proxy.release()));
      } else if (roll === 2) device.proxy.delay(rng.int(150));
      else {
        randomOperation(rng, device, steps);
        operations++;
      }
      // The pace of people typing: real time passes, so that reconnects, backoffs and delays play out.
      await new Promise((resolve) => setTimeout(resolve, rng.int(25)));
    }
    await Promise.all(stalls);
    const healed = performance.now();
    for (const d of devices) d.proxy.heal();

    // Every device's own writes reach the server, and every device catches up with the server.
    const room = t.server.registry.get(roomId);
    if (!room) throw new Error('the room is not loaded');
    const stateOf = (doc: Y.Doc) => Y.decodeStateVector(Y.encodeStateVector(doc));
    const own = (doc: Y.Doc) => new Map([[doc.clientID, Y.getState(doc.store, doc.clientID)]]);
    await unlessGivenUp(untilDoc(room.doc, (doc) => devices.every((d) => covers(stateOf(doc), own(d.provider.doc)))));
    const target = stateOf(room.doc);
    await unlessGivenUp(Promise.all(devices.map((d) => untilDoc(d.provider.doc, (doc) => covers(stateOf(doc), target)))));
    const expected = JSON.stringify(view(room.doc));
    return {
      finalCloses,
      steps,
      cuts,
      stalls: stalls.length,
      operations,
      messages: view(room.doc).messages.length,
      replies: Object.values(view(room.doc).threads).flat().length,
      convergedAfterMs: Math.round(performance.now() - healed),
      divergentDevices: devices.filter((d) => JSON.stringify(view(d.provider.doc)) !== expected).length,
    };
  } finally {
    for (const d of devices) {
      d.provider.destroy();
      await d.proxy.close();
    }
  }
}
