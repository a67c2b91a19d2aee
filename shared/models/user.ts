import { z } from 'zod';
import { UserIdSchema } from '../ids.ts';

export const DisplayNameSchema = z.string().trim().min(1).max(80);

/** A user as other users see it (the chat API's nested `user` object). */
export const UserSchema = z.object({
  id: UserIdSchema,
  name: DisplayNameSchema,
});
export type User = z.infer<typeof UserSchema>;
