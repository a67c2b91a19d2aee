import { z } from 'zod';
import { MessageDeletedEventSchema, MessageEventSchema } from './messageEvents.ts';
import { PinEventSchema } from './pinEvent.ts';
import { PresenceEventSchema } from './presenceEvent.ts';
import { ReactionEventSchema } from './reactionEvent.ts';
import { ReadPositionEventSchema } from './readPositionEvent.ts';
import { TypingEventSchema } from './typingEvent.ts';
import { UnsubscribedEventSchema } from './unsubscribedEvent.ts';

/**
 * Every event pushed to a connection joined to a room, by its `type` in the response envelope
 * (`success: true`, `error: null`, no `request_id`). docs/commands.md lists them.
 */
export const RoomEventSchemas = {
  message_created: MessageEventSchema,
  message_edited: MessageEventSchema,
  message_deleted: MessageDeletedEventSchema,
  reaction_added: ReactionEventSchema,
  reaction_removed: ReactionEventSchema,
  read_position_moved: ReadPositionEventSchema,
  message_pinned: PinEventSchema,
  message_unpinned: PinEventSchema,
  typing_started: TypingEventSchema,
  typing_stopped: TypingEventSchema,
  presence_changed: PresenceEventSchema,
  unsubscribed: UnsubscribedEventSchema,
} as const;

export type RoomEventType = keyof typeof RoomEventSchemas;
export const RoomEventTypeSchema = z.enum(Object.keys(RoomEventSchemas) as [RoomEventType, ...RoomEventType[]]);

/** One event: its type and its data, typed together. */
export type RoomEvent = { [T in RoomEventType]: { type: T; data: z.infer<(typeof RoomEventSchemas)[T]> } }[RoomEventType];
