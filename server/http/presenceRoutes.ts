import { Hono } from 'hono';
import { PresenceQuerySchema, type PresenceList } from '../../shared/models/userPresence.ts';
import type { ApiDeps, ApiEnv } from './ApiDeps.ts';
import { parseQuery } from './parseRequest.ts';
import { presenceOf } from './presenceView.ts';

/** /api/presence: who is online, when others were last seen, their status text. */
export function presenceRoutes(deps: ApiDeps): Hono<ApiEnv> {
  const app = new Hono<ApiEnv>();

  app.get('/', (c) => {
    const { user_ids } = parseQuery(c, PresenceQuerySchema);
    const stored = deps.directory.presence.getMany(user_ids);
    const presence = user_ids.map((id) => presenceOf(deps, id, stored.get(id) ?? { last_seen_at: null, status: null }));
    return c.json({ presence } satisfies PresenceList);
  });

  return app;
}
