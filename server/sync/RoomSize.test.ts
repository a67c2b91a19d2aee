import { describe, expect, it } from 'vitest';
import { UserRateLimiter } from '../limits/UserRateLimiter.ts';
import { RoomSize } from './RoomSize.ts';

describe('RoomSize', () => {
  it('holds new messages to the limit, other content to 10 % more, and never refuses deletions for size', () => {
    const size = new RoomSize('r', 900, { maxDocBytes: 1000 });
    expect(size.admit('ana', 100, 'messages')).toBeNull();
    expect(size.admit('ana', 101, 'messages')?.code).toBe('document_too_large');
    expect(size.full).toBe(true);
    expect(size.admit('ana', 200, 'other')).toBeNull();
    expect(size.admit('ana', 201, 'other')?.code).toBe('document_too_large');
    expect(size.admit('ana', 10_000, 'none')).toBeNull();
    // A compaction that freed room lets a message in again, and the room is no longer full.
    size.added(50);
    size.compacted(950, 400);
    expect(size.storedBytes).toBe(400);
    expect(size.admit('ana', 500, 'messages')).toBeNull();
    expect(size.full).toBe(false);
  });

  it('holds each member to their growth share, per room, and says when to try again', () => {
    let now = 0;
    const growth = new UserRateLimiter({ burst: 1000, perMinute: 600 }, () => now);
    const a = new RoomSize('a', 0, { maxDocBytes: 1 << 20, memberGrowth: growth });
    const b = new RoomSize('b', 0, { maxDocBytes: 1 << 20, memberGrowth: growth });
    expect(a.admit('ana', 1000, 'messages')).toBeNull();
    expect(a.admit('ana', 1, 'messages')).toMatchObject({ code: 'member_quota', reason: expect.stringMatching(/try again in 1 s$/) });
    expect(a.admit('ben', 1000, 'messages')).toBeNull();
    expect(b.admit('ana', 1000, 'messages')).toBeNull();
    now += 1000; // 10 bytes a second come back
    expect(a.admit('ana', 10, 'messages')).toBeNull();
  });
});
