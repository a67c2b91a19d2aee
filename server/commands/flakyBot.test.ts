import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as Y from 'yjs';
import { uuidv7 } from '../../shared/ids.ts';
import { listMessages } from '../../shared/roomDoc/queries.ts';
import type { WebSocketResponse } from '../../shared/commands/webSocketResponse.ts';
import { CommandClient } from '../../test/support/commandClient.ts';
import { FlakyProxy } from '../../test/support/flakyProxy.ts';
import { prng } from '../../test/support/prng.ts';
import { connectProvider, startWithRoom, synced, untilDoc, type TwoMemberRoom } from '../../test/support/serverHarness.ts';

/*
 * A bot on the JSON command endpoint through a link that delays, stalls and cuts: it keeps every
 * write by sending each message with its own message_id until it gets an answer, reconnecting
 * after every cut (send_message is idempotent for the same id and content). Every message ends
 * on the server exactly once.
 */

let s: TwoMemberRoom;
let proxy: FlakyProxy;
beforeAll(async () => {
  s = await startWithRoom();
  proxy = await FlakyProxy.start({ host: '127.0.0.1', port: Number(new URL(s.t.url).port) });
});
afterAll(async () => {
  await proxy.close();
  await s.t.dispose();
});

/** Resolves with the answer, or null if the connection closed first. */
const orClosed = (answer: Promise<WebSocketResponse>, client: CommandClient): Promise<WebSocketResponse | null> =>
  Promise.race([answer, client.closed.then(() => null)]);

describe('a bot on a flaky link', () => {
  it.each([7, 8])('keeps every message, each stored once (seed %i)', async (seed) => {
    const rng = prng(seed);
    const url = `ws://127.0.0.1:${proxy.port}/ws/commands?token=${encodeURIComponent(s.ana.token)}`;
    const sent: string[] = [];
    let client: CommandClient | null = null;
    let reconnects = 0;
    // The link misbehaves on its own schedule while the bot works.
    let chaos = true;
    const weather = (async () => {
      while (chaos) {
        const roll = rng.int(4);
        if (roll === 0) proxy.cut();
        else if (roll === 1) proxy.stall();
        else if (roll === 2) proxy.delay(rng.int(80));
        await new Promise((resolve) => setTimeout(resolve, 5 + rng.int(40)));
        proxy.release();
      }
    })();
    for (let i = 0; i < 60; i++) {
      const id = uuidv7();
      const content = `bot ${seed}.${i}`;
      for (;;) {
        if (!client || client.ws.readyState > 1) {
          client = await CommandClient.open(url).catch(() => null);
          if (!client) continue;
          reconnects++;
          if (!(await orClosed(client.request('join_room', { room_id: s.roomId }), client))?.success) continue;
        }
        const answer = await orClosed(client.request('send_message', { room_id: s.roomId, message_id: id, content }), client);
        if (answer?.success) break;
        expect(answer).toBeNull(); // the only failure allowed is the link's
      }
      sent.push(content);
    }
    chaos = false;
    await weather;
    proxy.heal();
    await client?.close();

    const reader = connectProvider(s.t, s.roomId, s.ben, new Y.Doc());
    await synced(reader);
    const mine = (doc: Y.Doc) => listMessages(doc, { limit: 10_000 }).messages.map((m) => m.content).filter((c) => c.startsWith(`bot ${seed}.`));
    await untilDoc(reader.doc, (doc) => mine(doc).length >= sent.length);
    expect(mine(reader.doc)).toEqual(sent);
    expect(reconnects).toBeGreaterThan(1);
    reader.destroy();
  });
});
