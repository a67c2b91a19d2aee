import { Hono } from 'hono';
import { uuidv4 } from '../../shared/ids.ts';
import { ParleyError } from '../../shared/errors/errorCodes.ts';
import { DevLoginSchema, type DevLoginResponse } from '../../shared/models/user.ts';
import type { ApiDeps, ApiEnv } from './ApiDeps.ts';
import { parseJsonBody } from './parseRequest.ts';

/** /api/auth: the only routes that need no token. */
export function authRoutes(deps: ApiDeps): Hono<ApiEnv> {
  const now = deps.now ?? Date.now;
  const app = new Hono<ApiEnv>();

  /**
   * Dev login mints a token for any name, so it exists only when the operator turned it on.
   * Without `user_id`, an existing user of exactly that name is reused: two devices of "Ana"
   * are one user. The lookup and the upsert are one transaction, so two concurrent first
   * logins of one name on SQLite cannot mint two users (on PostgreSQL two nodes still could:
   * nothing locks a name that has no row yet).
   */
  app.post('/dev-login', async (c) => {
    if (!deps.devLogin.enabled) throw new ParleyError('dev_login_disabled', 'dev login is disabled on this server');
    const body = await parseJsonBody(c, DevLoginSchema);
    const at = now();
    const user = await deps.directory.transaction(async (tx) => {
      const found = { id: body.user_id ?? (await tx.users.findByName(body.name))?.id ?? uuidv4(), name: body.name };
      await tx.users.upsert(found, at);
      return found;
    });
    const token = await deps.devTokens.sign(user, deps.devLogin.tokenTtlSeconds);
    return c.json({ token, user } satisfies DevLoginResponse);
  });

  return app;
}
