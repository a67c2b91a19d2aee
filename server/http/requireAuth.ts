import { createMiddleware } from 'hono/factory';
import { ParleyError } from '../../shared/errors/errorCodes.ts';
import type { ApiDeps, ApiEnv } from './ApiDeps.ts';
import { bearerToken } from '../auth/bearerToken.ts';


/**
 * Verifies the bearer token (401 `unauthorized` with the reason otherwise), records the
 * user's current display name, and exposes the user as `c.var.user`.
 */
export function requireAuth(deps: ApiDeps) {
  const now = deps.now ?? Date.now;
  return createMiddleware<ApiEnv>(async (c, next) => {
    const user = await deps.tokens.verify(bearerToken(c.req.header('Authorization')));
    // The token is the source of truth for names: a rename in the host app shows up on the
    // user's next request.
    await deps.directory.users.upsert(user, now());
    c.set('user', user);
    await next();
  });
}
