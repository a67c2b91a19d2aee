import { describe, expect, test } from 'vitest';
import { createLogger } from '../log.ts';
import { type ParleyNotification, ParleyNotificationSchema } from '../../shared/models/notification.ts';
import { uuidv4, uuidv7 } from '../../shared/ids.ts';
import { redisSuiteName, redisTestsRun, useRedis } from '../../test/support/redis.ts';
import { ClusterFeed, type FeedTarget } from './ClusterFeed.ts';

const it = redisTestsRun() ? test : test.skip;
const ROOM = uuidv4();
const ANA = uuidv4();
const BEN = uuidv4();

const notification = (userId: string): ParleyNotification =>
  ParleyNotificationSchema.parse({
    type: 'mention',
    id: uuidv4(),
    user_id: userId,
    room: { id: ROOM, name: 'general', type: 'group' },
    message: {
      id: uuidv7(),
      room_id: ROOM,
      sender_id: BEN,
      sender_name: 'Ben',
      message_type: 'text',
      content: 'hi @Ana',
      extra_metadata: {},
      is_deleted: false,
      deleted_at: null,
      is_edited: false,
      reactions: {},
      created_at: '2026-12-05T10:00:00.000Z',
      updated_at: '2026-12-05T10:00:00.000Z',
      mentioned_users: [userId],
    },
    created_at: '2026-12-05T10:00:00.000Z',
  });

describe(redisSuiteName('ClusterFeed: the user feed live across nodes (a real Redis)'), () => {
  const redis = useRedis();

  /** A node's feed, and what reached its UserFeed from the others. */
  async function node(nodeId: string) {
    const feed = new ClusterFeed({ redis: redis.client(), subscriber: redis.client(), nodeId, logger: createLogger('silent') });
    await feed.ready;
    const got: string[] = [];
    let wake: () => void = () => {};
    const target: FeedTarget = {
      summariesChanged: (changed) => {
        for (const [roomId, users] of changed) got.push(`summaries ${roomId} ${[...users].sort().join(',')}`);
        wake();
      },
      notify: (userId, list) => {
        got.push(`notify ${userId} ${list.map((n) => n.type).join(',')}`);
        wake();
        return true;
      },
    };
    feed.deliverTo(target);
    const until = (n: number): Promise<void> =>
      new Promise((resolve) => {
        wake = () => {
          if (got.length >= n) resolve();
        };
        wake();
      });
    return { feed, got, until, client: redis.client() };
  }

  it("delivers its own changes to its devices and another node's to theirs, once each, and skips a malformed message", async () => {
    const a = await node('node-a');
    const b = await node('node-b');
    a.feed.summariesChanged(new Map([[ROOM, new Set([ANA, BEN])]]));
    // Malformed (not one of the two kinds; a notification that is not one): skipped.
    await a.client.publish('parley:feed', JSON.stringify({ type: 'summaries', node: 'node-x', roomId: ROOM }));
    await a.client.publish('parley:feed', JSON.stringify({ type: 'notify', node: 'node-x', userId: ANA, notifications: [{ type: 'mention' }] }));
    await a.client.publish('parley:feed', 'not json');
    a.feed.notify(ANA, [notification(ANA)]);
    await b.until(2);
    expect(b.got).toEqual([`summaries ${ROOM} ${[ANA, BEN].sort().join(',')}`, `notify ${ANA} mention`]);
    // A third node publishes after a's messages reached Redis (b has them): a gets it, and its own
    // changes once, from itself, never again from Redis.
    const c = await node('node-c');
    c.feed.notify(BEN, [notification(BEN)]);
    await a.until(3);
    expect(a.got).toEqual([`summaries ${ROOM} ${[ANA, BEN].sort().join(',')}`, `notify ${ANA} mention`, `notify ${BEN} mention`]);
  });
});
