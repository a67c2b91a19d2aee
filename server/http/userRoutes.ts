import { Hono } from 'hono';
import { UserQuerySchema, type User, type UserList } from '../../shared/models/user.ts';
import type { ApiDeps, ApiEnv } from './ApiDeps.ts';
import { parseQuery } from './parseRequest.ts';

/** Most users one name search returns. */
const SEARCH_LIMIT = 20;

/**
 * /api/users: find people to add to rooms. Only users who have authenticated at least once
 * have a name, so only they are listed; unknown ids are left out rather than failing the list.
 */
export function userRoutes(deps: ApiDeps): Hono<ApiEnv> {
  const app = new Hono<ApiEnv>();

  app.get('/', async (c) => {
    const query = parseQuery(c, UserQuerySchema);
    let users: User[] = [];
    if (query.ids) {
      const found = await deps.directory.users.getMany(query.ids);
      users = query.ids.flatMap((id) => found.get(id) ?? []);
    } else if (query.q) {
      users = await deps.directory.users.searchByNamePrefix(query.q, SEARCH_LIMIT);
    }
    return c.json({ users } satisfies UserList);
  });

  return app;
}
