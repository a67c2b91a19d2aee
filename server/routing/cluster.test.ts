import * as Y from 'yjs';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { uuidv4 } from '../../shared/ids.ts';
import { CloseCode } from '../../shared/protocol/closeCodes.ts';
import { TokenService } from '../auth/TokenService.ts';
import { type TestCluster, startCluster } from '../../test/support/cluster.ts';
import { MuxSocket } from '../../test/support/muxSocket.ts';
import { postgresSuiteName, postgresTestsRun } from '../../test/support/postgres.ts';
import { redisTestsRun } from '../../test/support/redis.ts';
import { awarenessFrame } from '../../test/support/syncFrames.ts';
import { contentsOf, writerReplica } from '../../test/support/writerReplica.ts';

const runs = postgresTestsRun() && redisTestsRun();
const it = runs ? test : test.skip;

interface Member {
  readonly id: string;
  readonly name: string;
  readonly token: string;
}

/**
 * Three Parley nodes (real processes) on one PostgreSQL and one Redis, clients spread over all
 * three (docs/scale-out.md): one node owns the room, the others forward its channels to it.
 */
describe(postgresSuiteName('three nodes, one room'), () => {
  let cluster: TestCluster;
  const members: Member[] = [];
  let roomId: string;

  const api = async (node: number, member: Member, method: string, route: string, body?: unknown): Promise<{ status: number; body: unknown }> => {
    const res = await fetch(`${cluster.nodes[node]!.url}${route}`, {
      method,
      headers: { authorization: `Bearer ${member.token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    return { status: res.status, body: res.status === 204 ? null : await res.json() };
  };

  beforeAll(async () => {
    if (!runs) return;
    cluster = await startCluster({ nodes: 3 });
    const tokens = new TokenService(cluster.jwtSecret);
    for (const name of ['Ana', 'Ben', 'Cai']) {
      const user = { id: uuidv4(), name };
      members.push({ ...user, token: await tokens.sign(user, 3_600) });
    }
    const [ana, ben, cai] = members as [Member, Member, Member];
    // Every user authenticates once (the REST API records them), on a different node each.
    for (const [i, member] of members.entries()) expect((await api(i, member, 'GET', '/api/me')).status).toBe(200);
    const created = await api(0, ana, 'POST', '/api/rooms', {
      name: 'spread',
      type: 'group',
      members: [
        { user_id: ben.id, role: 'member' },
        { user_id: cai.id, role: 'member' },
      ],
    });
    expect(created.status).toBe(201);
    roomId = (created.body as { id: string }).id;
  }, 120_000);
  afterAll(() => cluster?.stop(), 60_000);

  it('every message reaches every client whichever node it is on; awareness crosses nodes; a member removed on one node is closed on another', async () => {
    const [ana, ben, cai] = members as [Member, Member, Member];
    // One socket per user, each on its own node.
    const sockets = await Promise.all(members.map((member, i) => MuxSocket.connect(cluster.nodes[i]!.url, member.token)));
    const [onAna, onBen, onCai] = sockets as [MuxSocket, MuxSocket, MuxSocket];
    try {
      const joined = await Promise.all(sockets.map((socket) => socket.join(roomId)));
      const replicas = members.map((member) => writerReplica(member.id));
      // Each writes one message through its own node; each is acknowledged, and reaches the other two.
      for (const [i, socket] of sockets.entries()) {
        const { channel } = joined[i]!;
        socket.sendUpdate(channel, replicas[i]!.write(`from node ${i + 1}`));
        await socket.next(channel, (f) => f.type === 'ack');
      }
      await Promise.all(
        sockets.map(async (socket, i) => {
          const { channel, doc } = joined[i]!;
          // Its own message it holds; the other two arrive as updates, relayed by the owner through the links.
          Y.applyUpdate(doc, Y.encodeStateAsUpdate(replicas[i]!.doc));
          await socket.untilDoc(channel, doc, (d) => contentsOf(d).length >= 3);
          expect(contentsOf(doc).sort()).toEqual(['from node 1', 'from node 2', 'from node 3']);
        }),
      );

      // Ben (node 2) says he is typing; Ana (node 1) and Cai (node 3) hear it.
      onBen.send(joined[1]!.channel, awarenessFrame([{ clientId: 424242, clock: 1, state: { user: ben.id, typing: true } }]));
      for (const [socket, { channel }] of [
        [onAna, joined[0]!],
        [onCai, joined[2]!],
      ] as const) {
        await socket.next(channel, (f) => f.type === 'awareness');
      }

      // Ana removes Cai over REST on node 1: Cai's channel on node 3 closes, Forbidden.
      const closed = onCai.closed(joined[2]!.channel);
      expect((await api(0, ana, 'DELETE', `/api/rooms/${roomId}/members/${cai.id}`)).status).toBe(204);
      expect((await closed).code).toBe(CloseCode.Forbidden);
    } finally {
      for (const socket of sockets) socket.close();
    }
  }, 60_000);
});
