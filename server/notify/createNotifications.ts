import type { Logger } from '../log.ts';
import type { AsyncApi } from '../storage/AsyncApi.ts';
import type { DirectoryApi } from '../storage/DirectoryApi.ts';
import type { OutboxRepo } from '../storage/OutboxRepo.ts';
import type { Room } from '../sync/Room.ts';
import type { ParleyNotification } from '../../shared/models/notification.ts';
import { NewMessages } from './NewMessages.ts';
import { Notifier } from './Notifier.ts';
import { WebhookSender, type WebhookSettings } from './WebhookSender.ts';

export interface Notifications {
  /** Watch a loaded document for new messages (RoomRegistry's onLoaded). */
  roomLoaded(room: Room): void;
  /** Hands on what was committed last and waits until it is delivered, then stops the webhook sender (before the database closes). */
  close(): Promise<void>;
}

/**
 * Notifications (docs/notifications.md), wired: new committed messages (NewMessages) become
 * notifications (Notifier) that go to the recipient's connected devices on the user feed, or,
 * with a webhook configured, into the outbox that WebhookSender delivers. Deliveries left in the
 * outbox by an earlier run are sent from the start. `outbox` is used only with a webhook.
 */
export function createNotifications(deps: {
  readonly directory: DirectoryApi;
  readonly outbox: AsyncApi<OutboxRepo>;
  readonly webhook: WebhookSettings | null;
  readonly logger: Logger;
  readonly isConnected: (userId: string) => boolean;
  readonly pushToDevices: (userId: string, notifications: readonly ParleyNotification[]) => void;
}): Notifications {
  const { directory, logger } = deps;
  const outbox = deps.webhook ? deps.outbox : null;
  const sender = outbox && deps.webhook ? new WebhookSender({ outbox, settings: deps.webhook, logger }) : null;
  const notifier = new Notifier({
    directory,
    isConnected: deps.isConnected,
    pushToDevices: deps.pushToDevices,
    webhook: outbox && sender ? { outbox, wake: () => sender.wake() } : null,
    logger,
  });
  const watch = new NewMessages({
    isDirect: async (roomId) => (await directory.rooms.get(roomId))?.type === 'direct',
    deliver: (messages) => notifier.deliver(messages),
    logger,
  });
  sender?.wake();
  return {
    roomLoaded: (room) => watch.roomLoaded(room),
    async close() {
      // The last batch may enqueue deliveries and wake the sender: the sender stops after it.
      await watch.close();
      await sender?.close();
    },
  };
}
