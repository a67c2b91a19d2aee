import { randomUUID } from 'node:crypto';
import { TokenService } from '../../server/auth/TokenService.ts';
import type { Actor } from '../../shared/roomDoc/actor.ts';
import type { RunningPeer } from './peerServer.ts';
import { createRoom } from './parleyApi.ts';

/*
 * Rooms and members for a run. On Parley, members are real users with HS256 tokens minted here
 * (the secret is the server's) and each room is created over REST by its first member, who is
 * therefore its owner; the peers check nothing, so a room is just a name there. Every member has
 * a user id either way: room documents are written with createMessage as that user.
 */

export const BENCH_SECRET = 'parley-bench-secret-0123456789abcdef0123456789';

export interface Member {
  readonly userId: string;
  readonly token: string;
  readonly actor: Actor;
}

export interface PreparedRoom {
  readonly roomId: string;
  /** members[0] created the room (owner). */
  readonly members: readonly Member[];
}

const tokens = new TokenService(BENCH_SECRET);

async function member(index: number, role: Actor['role']): Promise<Member> {
  const userId = randomUUID();
  const token = await tokens.sign({ id: userId, name: `bench user ${index}` }, 24 * 3600);
  return { userId, token, actor: { userId, role } };
}

/**
 * `rooms` rooms of `size` members each (at most 1001 per Parley room: the creator + 1000).
 * `alsoMembers`: user ids added to every Parley room besides (the author of a seeded history).
 */
export async function prepareRooms(peer: RunningPeer, rooms: number, size: number, alsoMembers: readonly string[] = []): Promise<PreparedRoom[]> {
  const out: PreparedRoom[] = [];
  for (let r = 0; r < rooms; r++) {
    const members = await Promise.all(Array.from({ length: size }, (_, i) => member(r * size + i, i === 0 ? 'owner' : 'member')));
    if (peer.name !== 'parley') {
      out.push({ roomId: randomUUID(), members });
      continue;
    }
    const [owner, ...rest] = members;
    if (!owner) throw new Error('a room needs a member');
    const roomId = await createRoom(peer.httpUrl, owner.token, {
      name: `bench room ${r}`,
      type: 'group',
      members: [...rest.map((m) => m.userId), ...alsoMembers].map((id) => ({ user_id: id })),
    });
    out.push({ roomId, members });
  }
  return out;
}
