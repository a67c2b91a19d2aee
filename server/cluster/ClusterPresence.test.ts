import { describe, expect, test } from 'vitest';
import { createLogger } from '../log.ts';
import { ClusterPresence, type ElsewhereChange } from './ClusterPresence.ts';
import { redisSuiteName, redisTestsRun, useRedis } from '../../test/support/redis.ts';

const it = redisTestsRun() ? test : test.skip;
const FULL_STATE_MS = 100;

describe(redisSuiteName('ClusterPresence: who is online across nodes (a real Redis)'), () => {
  const redis = useRedis();

  /** A node's presence, and a way to wait for the next change it hears from the other nodes of a user. */
  async function node(nodeId: string) {
    const client = redis.client();
    const presence = new ClusterPresence({ redis: client, subscriber: redis.client(), nodeId, logger: createLogger('silent'), fullStateMs: FULL_STATE_MS });
    redis.afterTest(() => presence.close());
    await presence.ready;
    const seen: Array<{ userId: string; online: boolean }> = [];
    presence.onElsewhere((change) => {
      if (change.kind === 'online') seen.push({ userId: change.userId, online: change.onlineElsewhere });
    });
    const next = (userId: string, online: boolean): Promise<void> =>
      new Promise((resolve) => {
        const off = presence.onElsewhere((change) => {
          if (change.kind === 'online' && change.userId === userId && change.onlineElsewhere === online) {
            off();
            resolve();
          }
        });
      });
    return { presence, seen, next, client };
  }

  it("sees another node's user come online and go offline", async () => {
    const a = await node('node-a');
    const b = await node('node-b');
    const online = b.next('ana', true);
    a.presence.local('ana', true);
    await online;
    expect(b.presence.onlineElsewhere('ana')).toBe(true);
    const offline = b.next('ana', false);
    a.presence.local('ana', false);
    await offline;
    expect(b.presence.onlineElsewhere('ana')).toBe(false);
    expect(b.seen).toEqual([
      { userId: 'ana', online: true },
      { userId: 'ana', online: false },
    ]);
  });

  it('a user with connections on two nodes stays online until the last one closes', async () => {
    const a = await node('node-a');
    const b = await node('node-b');
    const c = await node('node-c');
    const both = Promise.all([c.next('ben', true), a.next('ben', true)]);
    a.presence.local('ben', true);
    b.presence.local('ben', true);
    await both;
    const gone = c.next('ben', false);
    a.presence.local('ben', false);
    b.presence.local('ben', false);
    await gone;
    // C heard A go first, and saw Ben online throughout until B's went too: one transition each way.
    expect(c.seen.filter((change) => change.userId === 'ben')).toEqual([
      { userId: 'ben', online: true },
      { userId: 'ben', online: false },
    ]);
  });

  it('a node that dies without a word: its users count as offline once its last full set is three intervals old', async () => {
    const a = await node('node-a');
    const b = await node('node-b');
    const online = b.next('cem', true);
    a.presence.local('cem', true);
    await online;
    const offline = b.next('cem', false);
    const stopped = performance.now();
    a.presence.close();
    a.client.disconnect();
    await offline;
    expect(performance.now() - stopped).toBeGreaterThanOrEqual(2 * FULL_STATE_MS);
  });

  it('a change a node missed (it was not subscribed yet) arrives with the next full set; a malformed message is skipped', async () => {
    const a = await node('node-a');
    a.presence.local('dee', true);
    const late = await node('node-late');
    expect(late.presence.onlineElsewhere('dee')).toBe(false);
    await a.client.publish('parley:presence', 'not json');
    await a.client.publish('parley:presence', JSON.stringify({ type: 'state', node: '', users: ['mallory'] }));
    await late.next('dee', true);
    expect(late.presence.onlineElsewhere('dee')).toBe(true);
    expect(late.presence.onlineElsewhere('mallory')).toBe(false);
  });

  it("tells what the other nodes say, not its own: online elsewhere, a status change, and a dead node's users marked as lost", async () => {
    const a = await node('node-a');
    const b = await node('node-b');
    const heard: ElsewhereChange[] = [];
    a.presence.onElsewhere((change) => heard.push(change));
    const nextHeard = (n: number): Promise<void> =>
      new Promise((resolve) => {
        const check = (): void => {
          if (heard.length >= n) {
            off();
            resolve();
          }
        };
        const off = a.presence.onElsewhere(check);
        check();
      });
    // Its own transitions are not "elsewhere".
    a.presence.local('ana', true);
    b.presence.local('ben', true);
    await nextHeard(1);
    b.presence.statusChanged('ben');
    await nextHeard(2);
    expect(a.presence.onlineElsewhere('ben')).toBe(true);
    expect(a.presence.onlineElsewhere('ana')).toBe(false);
    // b dies without a word: its users are offline elsewhere, as lost with their node.
    b.presence.close();
    await nextHeard(3);
    expect(heard).toEqual([
      { kind: 'online', userId: 'ben', onlineElsewhere: true, nodeLost: false },
      { kind: 'status', userId: 'ben' },
      { kind: 'online', userId: 'ben', onlineElsewhere: false, nodeLost: true },
    ]);
  });
});
