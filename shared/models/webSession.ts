import { z } from 'zod';
import { UserSchema } from './user.ts';

/**
 * The web app's signed-in session as kept in localStorage (client/ui/session.ts). `devName` is
 * set for a dev login, which can be renewed by logging in again by name; a pasted or host-given
 * token cannot be renewed by the app.
 */
export const WebSessionSchema = z.object({
  version: z.literal(1),
  token: z.string().min(1),
  user: UserSchema,
  devName: z.string().min(1).nullable(),
});
export type WebSession = z.infer<typeof WebSessionSchema>;
