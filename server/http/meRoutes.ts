import { Hono } from 'hono';
import { StatusUpdateSchema, type Me, type UserPresence } from '../../shared/models/userPresence.ts';
import type { ApiDeps, ApiEnv } from './ApiDeps.ts';
import { parseJsonBody } from './parseRequest.ts';
import { presenceOf } from './presenceView.ts';

/** /api/me: the caller's own identity, presence and status text. */
export function meRoutes(deps: ApiDeps): Hono<ApiEnv> {
  const now = deps.now ?? Date.now;
  const app = new Hono<ApiEnv>();

  app.get('/', (c) => {
    const { user } = c.var;
    return c.json({ user, presence: presenceOf(deps, user.id, deps.directory.presence.get(user.id)) } satisfies Me);
  });

  app.put('/status', async (c) => {
    const { user } = c.var;
    const { status } = await parseJsonBody(c, StatusUpdateSchema);
    // "" (after trimming) and null both clear the status: there is no visible empty status.
    deps.directory.presence.setStatus(user.id, status === '' ? null : status);
    // Rooms the user is in republish their presence (PresencePublisher listens).
    deps.presence.statusChanged(user.id, now);
    return c.json(presenceOf(deps, user.id, deps.directory.presence.get(user.id)) satisfies UserPresence);
  });

  return app;
}
