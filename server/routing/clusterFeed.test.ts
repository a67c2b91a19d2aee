import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import type { ChatClient } from '../../client/ChatClient.ts';
import type { ParleyNotification } from '../../shared/models/notification.ts';
import { PresenceListSchema } from '../../shared/models/userPresence.ts';
import { type ClusterNode, type TestCluster, startCluster, clusterSuiteName, clusterTestsRun } from '../../test/support/cluster.ts';
import { type Member, createRoom, membersOf } from '../../test/support/clusterMembers.ts';
import { freshDbName, openTestClient, until } from '../../test/support/clientHarness.ts';

const runs = clusterTestsRun();
const it = runs ? test : test.skip;

/**
 * What a user's devices hear about rooms owned by another node (docs/scale-out.md, "What crosses
 * nodes"): presence (online on any node, last seen when the last connection anywhere closed), and
 * the user feed's live part (a room's summary and a mention's notification, decided by the owner,
 * pushed to a device connected elsewhere). Three real node processes: the owner, the node of
 * the other member's device, and a third that answers the same.
 */
describe(clusterSuiteName('presence and the user feed across nodes'), () => {
  let cluster: TestCluster;
  const members: Member[] = [];
  let roomId: string;
  const clients: ChatClient[] = [];
  beforeAll(async () => {
    if (!runs) return;
    cluster = await startCluster({ nodes: 3 });
    const [owner] = cluster.nodes as [ClusterNode];
    members.push(...(await membersOf(cluster, owner, ['Ana', 'Ben'])));
    roomId = await createRoom(owner, members[0]!, [members[1]!], 'across');
  }, 120_000);
  afterAll(async () => {
    await Promise.all(clients.map((client) => client.close()));
    await cluster?.stop();
  }, 60_000);

  const presenceOf = async (node: ClusterNode, asker: Member, userId: string) => {
    const res = await fetch(`${node.url}/api/presence?user_ids=${userId}`, { headers: { authorization: `Bearer ${asker.token}` } });
    return PresenceListSchema.parse(await res.json()).presence[0];
  };

  it("a device on another node sees the room's summary and a mention live, and a member online on any node as online", async () => {
    const [ana, ben] = members as [Member, Member];
    const [owner, third, other] = cluster.nodes as [ClusterNode, ClusterNode, ClusterNode];
    // Ben's device on the node that owns the room (it opens the room first there).
    const benClient = await openTestClient({ serverUrl: owner.url, token: ben.token, dbName: freshDbName('feed-ben') });
    clients.push(benClient);
    const benRoom = await benClient.openRoom(roomId);
    // Ana's device on the other node, with the room list open and the room not.
    const anaClient = await openTestClient({ serverUrl: other.url, token: ana.token, dbName: freshDbName('feed-ana') });
    clients.push(anaClient);
    await until((check) => anaClient.on('rooms', check), () => anaClient.rooms().some((r) => r.room.id === roomId), "the room in Ana's list");
    const heard: ParleyNotification[] = [];
    anaClient.on('notification', (n) => heard.push(n));

    // Ben is connected to the owner only; the other nodes count him online once Redis pub/sub has
    // told them (asynchronous: under a loaded machine it may land after Ana's room list).
    await expect.poll(async () => (await presenceOf(other, ana, ben.id))?.is_online).toBe(true);
    await expect.poll(async () => (await presenceOf(third, ana, ben.id))?.is_online).toBe(true);
    const sent = await benRoom.send({ content: 'hello @Ana, from the owner', mentionedUsers: [ana.id] });
    await until(
      (check) => anaClient.on('rooms', check),
      () => anaClient.rooms().find((r) => r.room.id === roomId)?.lastMessage?.id === sent.id,
      "Ben's message in Ana's room list on the other node",
    );
    const summary = anaClient.rooms().find((r) => r.room.id === roomId);
    expect(summary?.unreadCount).toBe(1);
    expect(summary?.mentionCount).toBe(1);
    await until((check) => anaClient.on('notification', check), () => heard.length > 0, "Ana's mention notification on the other node");
    expect(heard.map((n) => [n.type, n.message.id])).toEqual([['mention', sent.id]]);

    // Ana opens the room (forwarded to the owner): Ben is online in its presence; he leaves, and is offline with a last seen.
    const anaRoom = await anaClient.openRoom(roomId);
    await until((check) => anaRoom.on('presence', check), () => anaRoom.presence().find((p) => p.user_id === ben.id)?.is_online === true, 'Ben online in the room');
    await benClient.close();
    clients.splice(clients.indexOf(benClient), 1);
    await until(
      (check) => anaRoom.on('presence', check),
      () => {
        const p = anaRoom.presence().find((x) => x.user_id === ben.id);
        return p?.is_online === false && p.last_seen_at !== null;
      },
      'Ben offline with a last seen, in the room on the other node',
    );
    await expect.poll(async () => (await presenceOf(other, ana, ben.id))?.is_online).toBe(false);
    await expect.poll(async () => (await presenceOf(third, ana, ben.id))?.is_online).toBe(false);
  }, 60_000);
});
