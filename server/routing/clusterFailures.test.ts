import { Redis } from 'ioredis';
import * as Y from 'yjs';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import type { ChatRoom } from '../../client/room/ChatRoom.ts';
import { CloseCode } from '../../shared/protocol/closeCodes.ts';
import { listMessages } from '../../shared/roomDoc/queries.ts';
import { type ClusterNode, type TestCluster, startCluster, clusterSuiteName, clusterTestsRun } from '../../test/support/cluster.ts';
import { type Member, createRoom, leaseExpiresAfter, membersOf } from '../../test/support/clusterMembers.ts';
import type { ChatClient } from '../../client/ChatClient.ts';
import { freshDbName, openTestClient, until, isSent, merged } from '../../test/support/clientHarness.ts';
import { MuxSocket } from '../../test/support/muxSocket.ts';
import { FlakyProxy } from '../../test/support/flakyProxy.ts';
import { contentsOf, writerReplica } from '../../test/support/writerReplica.ts';
import { sampleValue } from '../../test/support/promText.ts';

const runs = clusterTestsRun();
const it = runs ? test : test.skip;


/**
 * The engines a cluster stands on failing under traffic (issue 19, docs/scale-out.md "Failure"):
 * Redis restarting empty, PostgreSQL not answering for a while. Two real node processes, clients
 * on both (so the room's frames are served locally on its owner and forwarded from the other).
 * What must hold: nothing is acknowledged that was not committed, nothing acknowledged is lost,
 * every client converges, and service resumes on its own.
 */
interface Traffic {
  readonly cluster: TestCluster;
  readonly members: readonly [Member, Member];
  readonly roomId: string;
  readonly owner: ClusterNode;
  readonly rooms: ChatRoom[];
  readonly clients: ChatClient[];
  /** Every message sent so far, with the room (client) it was sent from. */
  readonly sent: Array<{ room: ChatRoom; id: string }>;
  /** Each client sends `perClient` messages at once; resolves once they are written locally. */
  burst(round: number, perClient: number): Promise<Array<{ room: ChatRoom; id: string }>>;
  /** Until every message sent is acknowledged, then until every client holds exactly all of them. */
  settled(timeoutMs: number): Promise<void>;
}



/** The nodes whose /metrics say they own one room (each test's cluster has one room). */
async function ownersByMetrics(cluster: TestCluster): Promise<string[]> {
  const owning: string[] = [];
  for (const node of cluster.nodes) {
    const text = await (await fetch(`${node.url}/metrics`)).text();
    if (sampleValue(text, 'parley_rooms_owned', { node: node.id }) === 1) owning.push(node.id);
  }
  return owning;
}

async function startTraffic(cluster: TestCluster): Promise<Traffic> {
  const [first, second] = cluster.nodes as [ClusterNode, ClusterNode];
  const members = (await membersOf(cluster, first, ['Ana', 'Ben'])) as [Member, Member];
  const roomId = await createRoom(first, members[0], [members[1]], 'under fault');
  // The node that opens the room first owns it.
  const opener = await MuxSocket.connect(first.url, members[0].token);
  await opener.join(roomId);
  opener.close();
  // Six devices: three on each node, both users.
  const clients = await Promise.all(
    Array.from({ length: 6 }, (_, i) => openTestClient({ serverUrl: (i % 2 === 0 ? first : second).url, token: members[i % 2]!.token, dbName: freshDbName(`fault-${i}`) })),
  );
  const rooms = await Promise.all(clients.map((client) => client.openRoom(roomId)));
  const sent: Array<{ room: ChatRoom; id: string }> = [];
  return {
    cluster,
    members,
    roomId,
    owner: first,
    rooms,
    clients,
    sent,
    async burst(round, perClient) {
      const messages = await Promise.all(rooms.flatMap((room, c) => Array.from({ length: perClient }, (_, k) => room.send({ content: `r${round} c${c} m${k}` }))));
      const these = messages.map((message, i) => ({ room: rooms[Math.floor(i / perClient)]!, id: message.id }));
      sent.push(...these);
      return these;
    },
    async settled(timeoutMs) {
      await until((check) => merged(rooms.map((room) => room.on('states', check))), () => sent.every(isSent), 'every message acknowledged', timeoutMs);
      const all = new Set(sent.map((s) => s.id));
      expect(all.size).toBe(sent.length);
      await Promise.all(
        rooms.map((room) => until((check) => room.on('change', check), () => room.messages({ limit: 1_000 }).messages.length === all.size, 'a client to converge', timeoutMs)),
      );
      for (const room of rooms) {
        const ids = room.messages({ limit: 1_000 }).messages.map((m) => m.id);
        expect(ids).toHaveLength(all.size);
        expect(new Set(ids)).toEqual(all);
      }
      // What PostgreSQL holds, read afresh through the other node: every message, once.
      const reader = await MuxSocket.connect(cluster.nodes[1]!.url, members[0].token);
      try {
        const { doc } = await reader.join(roomId);
        const stored = listMessages(doc, { limit: 1_000 }).messages.map((m) => m.id);
        expect(stored).toHaveLength(all.size);
        expect(new Set(stored)).toEqual(all);
      } finally {
        reader.close();
      }
    },
  };
}

describe(clusterSuiteName('Redis restarts under traffic'), () => {
  let cluster: TestCluster;
  let traffic: Traffic;
  beforeAll(async () => {
    if (!runs) return;
    cluster = await startCluster({ nodes: 2, env: { PARLEY_LEASE_TTL_MS: '2000' } });
    traffic = await startTraffic(cluster);
  }, 120_000);
  afterAll(async () => {
    await Promise.all(traffic?.clients.map((client) => client.close()) ?? []);
    await cluster?.stop();
  }, 60_000);

  it('loses no acknowledged message, the room is owned again, and directory changes cross nodes again', async () => {
    const { rooms, members, roomId } = traffic;
    await traffic.burst(0, 5);
    await until((check) => merged(rooms.map((room) => room.on('states', check))), () => traffic.sent.every(isSent), 'the first round acknowledged', 30_000);
    // Redis is killed and started again, empty (no persistence: every lease, stream and
    // subscription is gone) while the second round is in flight.
    const inFlight = traffic.burst(1, 5);
    await cluster.redis.restart();
    await inFlight;
    await traffic.burst(2, 5);
    await traffic.settled(60_000);

    // One live node owns the room again, and holds its lease. Not necessarily the same one: the
    // lease was gone with Redis, so the other node may claim the room first (a new fencing token),
    // and the old owner then gives it up at its next renewal or refused commit.
    const redis = new Redis(cluster.redis.url);
    try {
      await expect
        .poll(async () => {
          const owning = await ownersByMetrics(cluster);
          return { owning, lease: await redis.get(`parley:lease:${roomId}`) };
        }, { timeout: 15_000 })
        .toSatisfy(({ owning, lease }: { owning: string[]; lease: string | null }) => owning.length === 1 && owning[0] === lease);
    } finally {
      redis.disconnect();
    }
    // A new device reaches the room through the node that does not own it.
    const late = await MuxSocket.connect(cluster.nodes[1]!.url, members[1].token);
    try {
      const { channel, doc } = await late.join(roomId);
      expect(listMessages(doc, { limit: 1_000 }).messages).toHaveLength(traffic.sent.length);
      // A member removed over REST on the owner is closed on the other node: directory events
      // cross nodes again after the restart.
      const closed = late.closed(channel);
      const removed = await fetch(`${cluster.nodes[0]!.url}/api/rooms/${roomId}/members/${members[1].id}`, {
        method: 'DELETE',
        headers: { authorization: `Bearer ${members[0].token}` },
      });
      expect(removed.status).toBe(204);
      expect((await closed).code).toBe(CloseCode.Forbidden);
    } finally {
      late.close();
    }
  }, 120_000);
});

describe(clusterSuiteName('PostgreSQL pauses under traffic'), () => {
  let cluster: TestCluster;
  let traffic: Traffic;
  beforeAll(async () => {
    if (!runs) return;
    // Statements fail after 1.5 s instead of 10 s, so the pause outlasts them quickly.
    cluster = await startCluster({ nodes: 2, env: { PARLEY_LEASE_TTL_MS: '2000', PARLEY_DATABASE_TIMEOUT_MS: '1500' } });
    traffic = await startTraffic(cluster);
  }, 120_000);
  afterAll(async () => {
    cluster?.postgres.resume();
    await Promise.all(traffic?.clients.map((client) => client.close()) ?? []);
    await cluster?.stop();
  }, 60_000);

  it('acknowledges nothing while PostgreSQL does not answer, refuses writes with a retryable close, then acknowledges everything, once', async () => {
    const { rooms, members, roomId, owner } = traffic;
    await traffic.burst(0, 5);
    await until((check) => merged(rooms.map((room) => room.on('states', check))), () => traffic.sent.every(isSent), 'the first round acknowledged', 30_000);
    // A raw device on the owner, to see how a write is refused.
    const raw = await MuxSocket.connect(owner.url, members[0].token);
    const { channel, doc } = await raw.join(roomId);
    const writer = writerReplica(members[0].id);
    Y.applyUpdate(writer.doc, Y.encodeStateAsUpdate(doc));

    cluster.postgres.pause();
    const round1 = new Set<string>();
    const ackedWhilePaused: string[] = [];
    const offs = rooms.map((room) =>
      room.on('states', () => {
        for (const id of round1) if (room.messageState(id)?.state === 'sent' && !ackedWhilePaused.includes(id)) ackedWhilePaused.push(id);
      }),
    );
    for (const s of await traffic.burst(1, 5)) round1.add(s.id);
    const acks = raw.framesOn(channel).filter((f) => f.type === 'ack').length;
    const closed = raw.closed(channel);
    raw.sendUpdate(channel, writer.write('while PostgreSQL is paused'));
    // The commit fails once its statement times out: the room's channels close with 4503
    // StorageUnavailable (clients reopen and resend), and nothing is acknowledged.
    expect((await closed).code).toBe(CloseCode.StorageUnavailable);
    expect(raw.framesOn(channel).filter((f) => f.type === 'ack')).toHaveLength(acks);
    expect(ackedWhilePaused).toEqual([]);
    for (const off of offs) off();
    cluster.postgres.resume();
    raw.close();

    await traffic.burst(2, 5);
    await traffic.settled(60_000);
  }, 120_000);
});

/**
 * A deposed owner that does not know it: its link to Redis stalls (no reply, no error), so its
 * lease renewals fail while it keeps its rooms; the lease expires and another node takes the room
 * with a newer fencing token. A write then reaches the old owner, which still believes it owns the
 * room: PostgreSQL's fence check refuses its commit, so the write is neither acknowledged nor
 * stored, the old owner gives the room up, and its client's channel closes with 4504.
 */
describe(clusterSuiteName('an owner cut off from Redis'), () => {
  let cluster: TestCluster;
  let proxy: FlakyProxy;
  beforeAll(async () => {
    if (!runs) return;
    cluster = await startCluster({ nodes: 1, env: { PARLEY_LEASE_TTL_MS: '2000' } });
    const redisPort = Number(new URL(cluster.redis.url).port);
    proxy = await FlakyProxy.start({ host: '127.0.0.1', port: redisPort });
    await cluster.startNode('node-cut-off', { PARLEY_REDIS_URL: `redis://127.0.0.1:${proxy.port}` });
  }, 120_000);
  afterAll(async () => {
    proxy?.release();
    await cluster?.stop();
    await proxy?.close();
  }, 60_000);

  it("has its commit refused by the fence check: the write is neither acknowledged nor stored, and it gives the room up", async () => {
    const [taker, cutOff] = cluster.nodes as [ClusterNode, ClusterNode];
    const [user] = (await membersOf(cluster, cutOff, ['Ana'])) as [Member];
    const { token } = user;
    const roomId = await createRoom(cutOff, user, [], 'fenced');
    // Opened on the node about to be cut off: it owns the room.
    const onCutOff = await MuxSocket.connect(cutOff.url, token);
    const { channel } = await onCutOff.join(roomId);
    const writer = writerReplica(user.id);
    onCutOff.sendUpdate(channel, writer.write('before the cut'));
    await onCutOff.next(channel, (f) => f.type === 'ack');
    const redis = new Redis(cluster.redis.url);
    try {
      expect(await redis.get(`parley:lease:${roomId}`)).toBe(cutOff.id);
      // Its Redis link stalls: renewals time out, the lease expires, and the other node takes the room.
      await leaseExpiresAfter(cluster, roomId, () => proxy.stall());
      const onTaker = await MuxSocket.connect(taker.url, token);
      const joined = await onTaker.join(roomId);
      expect(contentsOf(joined.doc)).toEqual(['before the cut']);
      expect(await redis.get(`parley:lease:${roomId}`)).toBe(taker.id);

      // A write reaches the old owner, which still holds the room in memory.
      const acks = onCutOff.framesOn(channel).filter((f) => f.type === 'ack').length;
      const closed = onCutOff.closed(channel);
      onCutOff.sendUpdate(channel, writer.write('to the deposed owner'));
      // OwnerUnavailable: the refused commit made it give the room up (the clients of a room it lost are told so).
      expect((await closed).code).toBe(CloseCode.OwnerUnavailable);
      expect(onCutOff.framesOn(channel).filter((f) => f.type === 'ack')).toHaveLength(acks);
      // It gave the room up: the metric says it lost a lease and owns nothing.
      const metrics = await (await fetch(`${cutOff.url}/metrics`)).text();
      expect(sampleValue(metrics, 'parley_leases_lost_total', { node: cutOff.id })).toBe(1);
      expect(sampleValue(metrics, 'parley_rooms_owned', { node: cutOff.id })).toBe(0);

      // Stored is what was acknowledged: read through the new owner afresh.
      const reader = await MuxSocket.connect(taker.url, token);
      const read = await reader.join(roomId);
      expect(contentsOf(read.doc)).toEqual(['before the cut']);
      for (const socket of [onTaker, reader]) socket.close();
    } finally {
      onCutOff.close();
      redis.disconnect();
    }
  }, 60_000);
});
