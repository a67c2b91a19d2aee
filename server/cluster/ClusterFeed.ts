import type { Redis } from 'ioredis';
import { z } from 'zod';
import { type ParleyNotification, ParleyNotificationSchema } from '../../shared/models/notification.ts';
import type { Logger } from '../log.ts';
import { parseJsonMessage } from './parseJsonMessage.ts';

const CHANNEL = 'parley:feed';

/** Most user ids in one summaries message (a room's members); a bigger change is split. */
const USERS_PER_MESSAGE = 1_000;

const FeedMessageSchema = z.discriminatedUnion('type', [
  z.object({ type: z.literal('summaries'), node: z.string().min(1), roomId: z.string().min(1), userIds: z.array(z.string().min(1)).max(USERS_PER_MESSAGE) }),
  z.object({ type: z.literal('notify'), node: z.string().min(1), userId: z.string().min(1), notifications: z.array(ParleyNotificationSchema).min(1) }),
]);
type FeedMessage = z.infer<typeof FeedMessageSchema>;

export interface ClusterFeedOptions {
  /** Publishes. */
  readonly redis: Redis;
  /** Subscribes (shared with the other pub/sub readers of this node: each keeps to its channel). */
  readonly subscriber: Redis;
  readonly nodeId: string;
  readonly logger: Logger;
}

/** What another node's feed change asks of this node's UserFeed. */
export interface FeedTarget {
  /** Room summaries another node wrote: re-read and pushed to this node's devices of those users. */
  summariesChanged(changed: ReadonlyMap<string, ReadonlySet<string>>): void;
  /** Notifications for a user whose devices may be on this node. */
  notify(userId: string, notifications: readonly ParleyNotification[]): boolean;
}

/**
 * The user feed's live part across nodes (docs/scale-out.md, "What crosses nodes"): the node that
 * owns a room writes its summaries (the newest message, unread and mention counts) and decides
 * its notifications, but a member's devices may be connected to any node. So the owner publishes
 * "these users' summaries of this room changed" and "these notifications for this user" on Redis
 * pub/sub, and every other node pushes them to the devices it holds. Pub/sub, not a stream,
 * because nothing here is the only copy: summaries are read again from the database on every
 * resume (a device catches up by time), and a notification for a connected device is a courtesy
 * beside the counts the summaries carry. A message lost while a subscriber reconnects makes one
 * device's room list late until the room's next change or the device's next resume.
 */
export class ClusterFeed implements FeedTarget {
  readonly #opts: ClusterFeedOptions;
  readonly #ready: Promise<unknown>;
  #target: FeedTarget | null = null;

  constructor(opts: ClusterFeedOptions) {
    this.#opts = opts;
    opts.subscriber.on('message', (channel: string, raw: string) => {
      if (channel === CHANNEL) this.#receive(raw);
    });
    this.#ready = opts.subscriber.subscribe(CHANNEL);
  }

  /** Resolves once this node hears the other nodes. */
  get ready(): Promise<unknown> {
    return this.#ready;
  }

  /** This node's UserFeed: what this node decides and what the other nodes publish go there. */
  deliverTo(target: FeedTarget): void {
    this.#target = target;
  }

  /** Summaries this node wrote: pushed to this node's devices of those users, and published for the other nodes'. */
  summariesChanged(changed: ReadonlyMap<string, ReadonlySet<string>>): void {
    this.#target?.summariesChanged(changed);
    for (const [roomId, users] of changed) {
      const ids = [...users];
      for (let i = 0; i < ids.length; i += USERS_PER_MESSAGE) this.#publish({ type: 'summaries', node: this.#opts.nodeId, roomId, userIds: ids.slice(i, i + USERS_PER_MESSAGE) });
    }
  }

  /** Notifications this node decided: pushed to this node's devices of the user, and published for the other nodes'. */
  notify(userId: string, notifications: readonly ParleyNotification[]): boolean {
    const here = this.#target?.notify(userId, notifications) ?? false;
    if (notifications.length > 0) this.#publish({ type: 'notify', node: this.#opts.nodeId, userId, notifications: [...notifications] });
    return here;
  }

  #receive(raw: string): void {
    const message = parseJsonMessage(FeedMessageSchema, raw);
    if (!message) {
      this.#opts.logger.warn({ raw: raw.slice(0, 200) }, 'feed: malformed message from another node skipped');
      return;
    }
    if (message.node === this.#opts.nodeId || !this.#target) return;
    if (message.type === 'summaries') this.#target.summariesChanged(new Map([[message.roomId, new Set(message.userIds)]]));
    else this.#target.notify(message.userId, message.notifications);
  }

  #publish(message: FeedMessage): void {
    this.#opts.redis.publish(CHANNEL, JSON.stringify(message)).catch((err: unknown) => this.#opts.logger.warn({ err }, 'feed: publish failed; devices on other nodes catch up on their next resume'));
  }
}
