import { z } from 'zod';
import { UserIdSchema } from '../ids.ts';
import { TimestampSchema } from './timestamps.ts';
import { UserIdListSchema, UserSchema } from './user.ts';

export const StatusTextSchema = z.string().trim().max(140);

export const UserPresenceSchema = z.object({
  user_id: UserIdSchema,
  /** True while any device of the user holds any connection to the server. */
  is_online: z.boolean(),
  /** When the user's last connection closed; null while never seen. */
  last_seen_at: TimestampSchema.nullable(),
  /** Custom status text, persisted across sessions. */
  status: StatusTextSchema.nullable(),
});
export type UserPresence = z.infer<typeof UserPresenceSchema>;

/** PUT /api/me/status */
export const StatusUpdateSchema = z.object({ status: StatusTextSchema.nullable() }).strict();
export type StatusUpdate = z.infer<typeof StatusUpdateSchema>;

/** GET /api/presence?user_ids=a,b */
export const PresenceQuerySchema = z.object({ user_ids: UserIdListSchema });
export type PresenceQuery = z.infer<typeof PresenceQuerySchema>;

/** Presence of GET /api/presence, in request order (duplicates removed). */
export const PresenceListSchema = z.object({ presence: z.array(UserPresenceSchema) });
export type PresenceList = z.infer<typeof PresenceListSchema>;

/** GET /api/me */
export const MeSchema = z.object({ user: UserSchema, presence: UserPresenceSchema });
export type Me = z.infer<typeof MeSchema>;
