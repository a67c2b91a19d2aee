import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import type { ChatClient } from '../../client/ChatClient.ts';
import type { ChatRoom } from '../../client/room/ChatRoom.ts';
import { type TestCluster, startCluster, clusterSuiteName, clusterTestsRun } from '../../test/support/cluster.ts';
import { type Member, createRoom, leaseHolder, membersOf, ownerOf } from '../../test/support/clusterMembers.ts';
import { freshDbName, openTestClient, until, isSent, merged } from '../../test/support/clientHarness.ts';
import { nginxSuiteName, nginxTestsRun, startNginx, type ThrowawayNginx } from '../../test/support/nginx.ts';
import { sampleValue } from '../../test/support/promText.ts';

const runs = clusterTestsRun() && nginxTestsRun();
const it = runs ? test : test.skip;


/**
 * docker-compose.yml's topology without containers: three node processes behind nginx running
 * the repository's own deploy/nginx.conf (round robin, WebSockets, no sticky sessions), every
 * client connected through it. A node killed behind it: nginx sends the reconnecting clients to
 * the live ones, and nothing acknowledged is lost.
 */
describe(nginxSuiteName(clusterSuiteName('three nodes behind deploy/nginx.conf')), () => {
  let cluster: TestCluster;
  let lb: ThrowawayNginx;
  beforeAll(async () => {
    if (!runs) return;
    cluster = await startCluster({ nodes: 3, env: { PARLEY_LEASE_TTL_MS: '2000' } });
    lb = await startNginx(cluster.nodes.map((node) => new URL(node.url).host));
  }, 120_000);
  afterAll(async () => {
    await lb?.stop();
    await cluster?.stop();
  }, 60_000);

  it('hides the nodes\' own endpoints, spreads clients over the nodes, and keeps every write when a node dies behind it', async () => {
    // The link between nodes and the metrics are not served through the load balancer.
    expect((await fetch(`${lb.url}/ws/internal`)).status).toBe(404);
    expect((await fetch(`${lb.url}/metrics`)).status).toBe(404);

    const [ana, ben, cai] = (await membersOf(cluster, cluster.nodes[0]!, ['Ana', 'Ben', 'Cai'])) as [Member, Member, Member];
    const roomId = await createRoom(cluster.nodes[0]!, ana, [ben, cai], 'behind nginx');
    const clients: ChatClient[] = [];
    try {
      for (let i = 0; i < 6; i++) clients.push(await openTestClient({ serverUrl: lb.url, token: [ana, ben, cai][i % 3]!.token, dbName: freshDbName(`lb-${i}`) }));
      const rooms = await Promise.all(clients.map((client) => client.openRoom(roomId)));
      const sent: Array<{ room: ChatRoom; id: string }> = [];
      const burst = async (round: number): Promise<void> => {
        const messages = await Promise.all(rooms.flatMap((room, c) => Array.from({ length: 3 }, (_, k) => room.send({ content: `r${round} c${c} m${k}` }))));
        messages.forEach((message, i) => sent.push({ room: rooms[Math.floor(i / 3)]!, id: message.id }));
      };
      const settled = async (): Promise<void> => {
        await until((check) => merged(rooms.map((room) => room.on('states', check))), () => sent.every(isSent), 'every message acknowledged', 60_000);
        await Promise.all(rooms.map((room) => until((check) => room.on('change', check), () => room.messages({ limit: 1_000 }).messages.length === sent.length, 'a client to converge', 30_000)));
        for (const room of rooms) expect(new Set(room.messages({ limit: 1_000 }).messages.map((m) => m.id))).toEqual(new Set(sent.map((s) => s.id)));
      };
      await burst(0);
      await settled();
      // Round robin spread the sockets: more than one node holds some.
      const holding = await Promise.all(cluster.nodes.map(async (node) => sampleValue(await (await fetch(`${node.url}/metrics`)).text(), 'parley_connections', { node: node.id }) ?? 0));
      expect(holding.filter((n) => n > 0).length).toBeGreaterThan(1);

      // The room's owner dies behind the load balancer; the clients reconnect through it.
      const owner = await ownerOf(cluster, roomId);
      await cluster.kill(owner);
      await burst(1);
      await settled();
      expect(cluster.nodes.map((node) => node.id)).toContain(await leaseHolder(cluster, roomId));
    } finally {
      await Promise.all(clients.map((client) => client.close()));
    }
  }, 120_000);
});
