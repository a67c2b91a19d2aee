import { describe, expect, it } from 'vitest';
import type { ChatMemberInDB } from '../../shared/models/chatMember.ts';
import type { ChatRoomInDB } from '../../shared/models/chatRoom.ts';
import type { DirectoryApi } from '../storage/DirectoryApi.ts';
import { AccessGuard } from './AccessGuard.ts';

const ROOM = '0190a3c4-1d2e-7f00-8000-000000000001';
const USER = 'u1';

/**
 * A directory whose membership reads answer when the test says, in any order (as PostgreSQL's
 * connections may): each `members.get` waits for the next answer pushed for it.
 */
function slowDirectory() {
  const reads: Array<(member: ChatMemberInDB | null) => void> = [];
  const room = { id: ROOM, is_active: true } as ChatRoomInDB;
  const member = (active: boolean): ChatMemberInDB => ({ room_id: ROOM, user_id: USER, role: 'member', is_active: active }) as ChatMemberInDB;
  // Only what checkRoomAccess reads: a test double of the two repositories it uses.
  const directory = {
    rooms: { get: () => Promise.resolve(room) },
    members: { get: () => new Promise<ChatMemberInDB | null>((resolve) => reads.push(resolve)) },
  } as unknown as DirectoryApi;
  /** Answers read number `i` (0: the first made). */
  const answer = async (i: number, active: boolean): Promise<void> => {
    // The reads are made within microtasks of what starts them: a bounded wait, never a sleep.
    for (let turn = 0; reads.length <= i && turn < 100; turn++) await Promise.resolve();
    const read = reads[i];
    if (!read) throw new Error(`read ${i} was never made`);
    read(member(active));
  };
  return { directory, answer, reads };
}

describe('AccessGuard', () => {
  it('acts on the later of two overlapping rechecks of one member, whichever answers first', async () => {
    const { directory, answer } = slowDirectory();
    const guard = new AccessGuard(directory);
    const earlier = guard.recheck(ROOM, USER);
    const later = guard.recheck(ROOM, USER);
    // The later read (re-added: active) answers first, the earlier (removed) one after it.
    await answer(1, true);
    await answer(0, false);
    expect(await later).toMatchObject({ ok: true });
    expect(await earlier).toBeNull();
  });

  it('reads a check again when a recheck began while it read', async () => {
    const { directory, answer, reads } = slowDirectory();
    const guard = new AccessGuard(directory);
    const check = guard.check(ROOM, USER);
    // While the check reads (it will find the member active), a removal is rechecked.
    const recheck = guard.recheck(ROOM, USER);
    await answer(0, true);
    await answer(1, false);
    // The check's first answer predates the recheck: it reads again and sees the removal.
    await answer(2, false);
    expect(await recheck).toMatchObject({ ok: false, code: 'not_a_member' });
    expect(await check).toMatchObject({ ok: false, code: 'not_a_member' });
    expect(reads).toHaveLength(3);
  });
});
