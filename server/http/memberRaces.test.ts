import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { uuidv4 } from '../../shared/ids.ts';
import type { ChatRoom } from '../../shared/models/chatRoom.ts';
import { expectError, startApi, type ApiHarness, type Session } from '../../test/support/apiHarness.ts';

/*
 * The member routes check the room's membership and then change it. Two such requests at once
 * must not both pass their checks before either writes: each route does both in one transaction
 * that locks the room. On SQLite as the server wires it, every directory call resolves at once,
 * so two requests could not interleave anyway; here each call outside a transaction takes a few
 * milliseconds (LaggingDirectory), as on PostgreSQL, so a check made outside the transaction
 * would be overtaken (checked: each test fails when its route does its work outside one).
 */

const LATENCY_MS = 5;
/** Rounds per race: one room each, so a lucky order once does not hide a broken route. */
const ROUNDS = 3;

let h: ApiHarness;
let olga: Session;
let omar: Session;
let mia: Session;

beforeEach(async () => {
  h = await startApi({ directoryLatencyMs: LATENCY_MS });
  [olga, omar, mia] = [await h.login('Olga'), await h.login('Omar'), await h.login('Mia')];
});
afterEach(() => h.close());

/** A room owned by Olga and Omar, with Mia as a plain member. */
async function twoOwnerRoom(): Promise<ChatRoom> {
  const room = await h.createRoom(olga, {
    name: 'team',
    type: 'group',
    members: [
      { user_id: omar.user.id, role: 'admin' },
      { user_id: mia.user.id, role: 'member' },
    ],
  });
  // Initial members cannot be owners: Olga makes Omar one.
  const res = await h.request('PATCH', member(room, omar.user.id), { as: olga, json: { role: 'owner' } });
  expect(res.status, JSON.stringify(res.body)).toBe(200);
  h.access.take();
  return room;
}

const member = (room: ChatRoom, userId: string) => `/api/rooms/${room.id}/members/${userId}`;
const activeOwners = (room: ChatRoom): string[] =>
  h.directory.members.list(room.id, { includeInactive: false }).flatMap((m) => (m.role === 'owner' ? [m.user_id] : []));

describe('member changes racing each other', () => {
  it('two owners demoting each other at once: one wins, the other is no longer an owner (403), the room keeps one', async () => {
    for (let round = 0; round < ROUNDS; round++) {
      const room = await twoOwnerRoom();
      const [a, b] = await Promise.all([
        h.request('PATCH', member(room, omar.user.id), { as: olga, json: { role: 'admin' } }),
        h.request('PATCH', member(room, olga.user.id), { as: omar, json: { role: 'admin' } }),
      ]);
      expect([a.status, b.status].sort()).toEqual([200, 403]);
      expectError(a.status === 403 ? a : b, 'forbidden');
      expect(activeOwners(room)).toEqual([a.status === 200 ? olga.user.id : omar.user.id]);
      expect(h.access.take()).toHaveLength(1);
    }
  });

  it('two owners removing each other at once: one wins, the other is no longer a member (403), the room keeps one', async () => {
    for (let round = 0; round < ROUNDS; round++) {
      const room = await twoOwnerRoom();
      const [a, b] = await Promise.all([
        h.request('DELETE', member(room, omar.user.id), { as: olga }),
        h.request('DELETE', member(room, olga.user.id), { as: omar }),
      ]);
      expect([a.status, b.status].sort()).toEqual([204, 403]);
      expectError(a.status === 403 ? a : b, 'not_a_member');
      expect(activeOwners(room)).toEqual([a.status === 204 ? olga.user.id : omar.user.id]);
      expect(h.access.take()).toHaveLength(1);
    }
  });

  it('two owners adding the same person at once: one 201, one 409 conflict, one membership', async () => {
    for (let round = 0; round < ROUNDS; round++) {
      const room = await twoOwnerRoom();
      const newcomer = uuidv4();
      const [a, b] = await Promise.all([
        h.request('POST', `/api/rooms/${room.id}/members`, { as: olga, json: { user_id: newcomer, role: 'member' } }),
        h.request('POST', `/api/rooms/${room.id}/members`, { as: omar, json: { user_id: newcomer, role: 'admin' } }),
      ]);
      expect([a.status, b.status].sort()).toEqual([201, 409]);
      expectError(a.status === 409 ? a : b, 'conflict');
      expect(h.directory.members.get(room.id, newcomer)?.role).toBe(a.status === 201 ? 'member' : 'admin');
      expect(h.access.take()).toHaveLength(1);
    }
  });
});
