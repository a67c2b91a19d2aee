import { Hono } from 'hono';
import { StatusUpdateSchema, type Me, type UserPresence } from '../../shared/models/userPresence.ts';
import type { ApiDeps, ApiEnv } from './ApiDeps.ts';
import { parseJsonBody } from './parseRequest.ts';
import { userPresence } from '../presence/usersPresence.ts';

/** /api/me: the caller's own identity, presence and status text. */
export function meRoutes(deps: ApiDeps): Hono<ApiEnv> {
  const now = deps.now ?? Date.now;
  const app = new Hono<ApiEnv>();

  app.get('/', async (c) => {
    const { user } = c.var;
    return c.json({ user, presence: await userPresence(deps.directory, deps.presence, user.id) } satisfies Me);
  });

  app.put('/status', async (c) => {
    const { user } = c.var;
    const { status } = await parseJsonBody(c, StatusUpdateSchema);
    // "" (after trimming) and null both clear the status: there is no visible empty status.
    await deps.directory.presence.setStatus(user.id, status === '' ? null : status);
    // Rooms the user is in republish their presence (PresencePublisher listens).
    deps.presence.statusChanged(user.id, now);
    return c.json((await userPresence(deps.directory, deps.presence, user.id)) satisfies UserPresence);
  });

  return app;
}
