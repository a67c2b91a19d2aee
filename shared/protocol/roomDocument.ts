/**
 * The room-document layout (docs/protocol.md, "Room document") and the operations that write it
 * as the server's validator accepts, for clients that write a room's Y.Doc themselves. Exported
 * from `parley/protocol` as the `roomDoc` namespace.
 */
export * from '../roomDoc/layout.ts';
export { createMessage, editMessage, deleteMessage, type CreateMessageInput, type EditMessageInput, type DeleteMessageInput } from '../roomDoc/messageOps.ts';
export { addReaction, removeReaction, type ReactionInput } from '../roomDoc/reactionOps.ts';
export { markRead, readPosition, readPositions } from '../roomDoc/readOps.ts';
export { listMessages, getMessage, lastMessage, unreadCount, messageCount } from '../roomDoc/queries.ts';
export { toChatMessage } from '../roomDoc/toChatMessage.ts';
export type { Actor } from '../roomDoc/actor.ts';
