import { Hono } from 'hono';
import { PresenceQuerySchema, type PresenceList } from '../../shared/models/userPresence.ts';
import type { ApiDeps, ApiEnv } from './ApiDeps.ts';
import { parseQuery } from './parseRequest.ts';
import { usersPresence } from '../presence/usersPresence.ts';

/** /api/presence: who is online, when others were last seen, their status text. */
export function presenceRoutes(deps: ApiDeps): Hono<ApiEnv> {
  const app = new Hono<ApiEnv>();

  app.get('/', async (c) => {
    const { user_ids } = parseQuery(c, PresenceQuerySchema);
    return c.json({ presence: await usersPresence(deps.directory, deps.presence, user_ids) } satisfies PresenceList);
  });

  return app;
}
