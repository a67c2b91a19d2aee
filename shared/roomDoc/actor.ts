import { z } from 'zod';
import { UserIdSchema } from '../ids.ts';
import { ChatMemberRoleSchema } from '../models/chatMember.ts';

/** Who performs an operation on a room document: an authenticated member and their role. */
export const ActorSchema = z.object({
  userId: UserIdSchema,
  role: ChatMemberRoleSchema,
});
export type Actor = z.infer<typeof ActorSchema>;

/**
 * Actors come from authentication, not from payloads, so a malformed one is a bug. Checked anyway
 * because the user id becomes part of reaction and read keys.
 */
export function assertActor(actor: Actor): void {
  if (!ActorSchema.safeParse(actor).success) throw new TypeError(`invalid actor: ${JSON.stringify(actor)}`);
}
