import { Redis } from 'ioredis';
import { expect } from 'vitest';
import { TokenService } from '../../server/auth/TokenService.ts';
import { uuidv4 } from '../../shared/ids.ts';
import type { ClusterNode, TestCluster } from './cluster.ts';
import { watchExpiry } from './redis.ts';

/** A user of a test cluster, with a token every node accepts. */
export interface Member {
  readonly id: string;
  readonly name: string;
  readonly token: string;
}

/** Users signed for the cluster, each recorded by the REST API of `node` (it authenticates once). */
export async function membersOf(cluster: TestCluster, node: ClusterNode, names: readonly string[]): Promise<Member[]> {
  const tokens = new TokenService(cluster.jwtSecret);
  return Promise.all(
    names.map(async (name) => {
      const user = { id: uuidv4(), name };
      const member = { ...user, token: await tokens.sign(user, 3_600) };
      expect((await fetch(`${node.url}/api/me`, { headers: { authorization: `Bearer ${member.token}` } })).status).toBe(200);
      return member;
    }),
  );
}

/** A group room created by `owner` on `node` with the others as members; its id. */
export async function createRoom(node: ClusterNode, owner: Member, others: readonly Member[], name = 'test room'): Promise<string> {
  const created = await fetch(`${node.url}/api/rooms`, {
    method: 'POST',
    headers: { authorization: `Bearer ${owner.token}`, 'content-type': 'application/json' },
    body: JSON.stringify({ name, type: 'group', members: others.map((u) => ({ user_id: u.id, role: 'member' })) }),
  });
  expect(created.status).toBe(201);
  return ((await created.json()) as { id: string }).id;
}

/** The node id holding the room's lease in Redis, or null. */
export async function leaseHolder(cluster: TestCluster, roomId: string): Promise<string | null> {
  const redis = new Redis(cluster.redis.url);
  try {
    return await redis.get(`parley:lease:${roomId}`);
  } finally {
    redis.disconnect();
  }
}

/** Runs `cause` (a node paused, its Redis link stalled) and resolves once Redis expires the room's lease (an event, not a poll). */
export async function leaseExpiresAfter(cluster: TestCluster, roomId: string, cause: () => void): Promise<void> {
  const expiry = await watchExpiry(cluster.redis.url, `parley:lease:${roomId}`);
  try {
    cause();
    await expiry.expired;
  } finally {
    expiry.close();
  }
}

/** The live node holding the room's lease (throws when none does). */
export async function ownerOf(cluster: TestCluster, roomId: string): Promise<ClusterNode> {
  const holder = await leaseHolder(cluster, roomId);
  const owner = cluster.nodes.find((node) => node.id === holder);
  if (!owner) throw new Error(`no live node holds room ${roomId} (lease: ${holder})`);
  return owner;
}
