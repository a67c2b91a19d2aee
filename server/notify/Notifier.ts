import { uuidv4 } from '../../shared/ids.ts';
import type { ParleyNotification } from '../../shared/models/notification.ts';
import { toTimestamp } from '../../shared/models/timestamps.ts';
import { toChatMessage } from '../../shared/roomDoc/toChatMessage.ts';
import type { Logger } from '../log.ts';
import type { AsyncApi } from '../storage/AsyncApi.ts';
import type { DirectoryApi } from '../storage/DirectoryApi.ts';
import type { NewOutboxEntry, OutboxRepo } from '../storage/OutboxRepo.ts';
import type { NewMessage } from './NewMessages.ts';
import { recipientsOf } from './recipients.ts';

export interface NotifierDeps {
  readonly directory: DirectoryApi;
  /** Whether the user holds any connection now (sync, multiplexed or command: PresenceTracker). */
  readonly isConnected: (userId: string) => boolean;
  /** Pushes notifications to the user's open feeds (UserFeed.notify). */
  readonly pushToDevices: (userId: string, notifications: readonly ParleyNotification[]) => void;
  /** The webhook's outbox and what wakes its sender; null when no webhook is configured. */
  readonly webhook: { readonly outbox: AsyncApi<OutboxRepo>; readonly wake: () => void } | null;
  readonly logger: Logger;
  readonly now?: () => number;
}

/**
 * Turns committed new messages into notifications (docs/notifications.md) and routes each: to the
 * recipient's devices through their user feed while they have a connection, else into the
 * webhook's outbox (when a webhook is configured), all of one batch in one transaction.
 * Batches are handed in one at a time (NewMessages waits for each), so notifications reach a
 * device, and the outbox, in the order the messages were committed.
 */
export class Notifier {
  readonly #d: NotifierDeps;
  readonly #now: () => number;

  constructor(deps: NotifierDeps) {
    this.#d = deps;
    this.#now = deps.now ?? Date.now;
  }

  async deliver(messages: readonly NewMessage[]): Promise<void> {
    const { directory } = this.#d;
    const now = this.#now();
    const live = new Map<string, ParleyNotification[]>();
    const outbox: NewOutboxEntry[] = [];
    for (const { roomId, view } of messages) {
      const room = await directory.rooms.get(roomId);
      if (!room?.is_active) continue;
      const recipients = recipientsOf(view, room.type, await directory.members.audience(roomId));
      if (recipients.length === 0) continue;
      // The names toChatMessage asks for (the sender's, a quoted sender's), read before it runs.
      const names = await directory.users.getMany([view.senderId, view.quoted?.senderId ?? null].filter((id): id is string => id !== null));
      const message = toChatMessage(view, roomId, (id) => names.get(id)?.name ?? null);
      for (const { userId, type } of recipients) {
        const notification: ParleyNotification = { type, id: uuidv4(), user_id: userId, room: { id: room.id, name: room.name, type: room.type }, message, created_at: toTimestamp(now) };
        if (this.#d.isConnected(userId)) {
          const list = live.get(userId) ?? [];
          list.push(notification);
          live.set(userId, list);
        } else if (this.#d.webhook) {
          outbox.push({ id: notification.id, messageId: message.id, userId, body: JSON.stringify(notification) });
        }
      }
    }
    for (const [userId, list] of live) this.#d.pushToDevices(userId, list);
    if (this.#d.webhook && outbox.length > 0) {
      const added = await this.#d.webhook.outbox.add(outbox, now);
      this.#d.logger.debug({ added }, 'notifications: webhook deliveries enqueued');
      this.#d.webhook.wake();
    }
  }
}
