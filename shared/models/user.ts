import { z } from 'zod';
import { UserIdSchema } from '../ids.ts';

export const DisplayNameSchema = z.string().trim().min(1).max(80);

/** A user as other users see it (the chat API's nested `user` object). */
export const UserSchema = z.object({
  id: UserIdSchema,
  name: DisplayNameSchema,
});
export type User = z.infer<typeof UserSchema>;

/** Most user ids accepted in one query-string list (`?ids=`, `?user_ids=`). */
export const MAX_USER_IDS_PER_QUERY = 200;

/**
 * A comma-separated list of user ids in a query string (`?ids=a,b`): empty items are ignored,
 * duplicates removed, at least one and at most MAX_USER_IDS_PER_QUERY ids.
 */
export const UserIdListSchema = z
  .string()
  .transform((raw) => raw.split(',').map((item) => item.trim()).filter((item) => item !== ''))
  .pipe(z.array(UserIdSchema).min(1).max(MAX_USER_IDS_PER_QUERY))
  .transform((ids) => [...new Set(ids)]);

/** GET /api/users — exactly one of `q` (name prefix) or `ids`. */
export const UserQuerySchema = z
  .object({
    q: z.string().trim().min(1).max(80).optional(),
    ids: UserIdListSchema.optional(),
  })
  .refine((query) => (query.q === undefined) !== (query.ids === undefined), {
    message: 'give exactly one of q (name prefix) or ids (comma-separated user ids)',
  });
export type UserQuery = z.infer<typeof UserQuerySchema>;

/** Users of GET /api/users, name order for `q`, request order for `ids`. */
export const UserListSchema = z.object({ users: z.array(UserSchema) });
export type UserList = z.infer<typeof UserListSchema>;

/**
 * POST /api/auth/dev-login. Without `user_id`, the oldest user with exactly this name is
 * reused (two devices of "Ana" are one user), else a new id is minted.
 */
export const DevLoginSchema = z
  .object({
    name: DisplayNameSchema,
    user_id: UserIdSchema.optional(),
  })
  .strict();
export type DevLogin = z.infer<typeof DevLoginSchema>;

export const DevLoginResponseSchema = z.object({ token: z.string().min(1), user: UserSchema });
export type DevLoginResponse = z.infer<typeof DevLoginResponseSchema>;
