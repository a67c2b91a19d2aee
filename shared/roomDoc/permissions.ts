import { isManagerRole } from '../models/chatMember.ts';
import type { Actor } from './actor.ts';
import type { MessageValue } from './layout.ts';

/*
 * Who may write what inside a room document. One set of rules: the client checks them before
 * writing, the server's update validator checks every incoming change against them.
 */

/** A member writes new messages only as themself; system messages come from the server alone. */
export const mayCreateMessage = (actor: Actor, value: MessageValue): boolean =>
  value.senderId === actor.userId && value.type !== 'system';

/** Only the sender rewrites a message value (edits are whole-value replacements). */
export const mayEditMessage = (actor: Actor, value: MessageValue): boolean => value.senderId === actor.userId;

/** The sender, an owner or an admin. */
export const mayDeleteMessage = (actor: Actor, value: MessageValue): boolean =>
  value.senderId === actor.userId || isManagerRole(actor.role);

/** Reaction and read-position keys carry a user id: each member writes only their own. */
export const mayWriteUserKey = (actor: Actor, keyUserId: string): boolean => keyUserId === actor.userId;

/** Owners and admins pin and unpin messages (docs/protocol.md, "Conversations"). */
export const mayPin = (actor: Actor): boolean => isManagerRole(actor.role);
