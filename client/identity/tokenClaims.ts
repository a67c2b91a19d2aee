import { z } from 'zod';
import { UserIdSchema } from '../../shared/ids.ts';
import { DisplayNameSchema, type User } from '../../shared/models/user.ts';
import { ClientError } from '../errors/ClientError.ts';

const ClaimsSchema = z.object({ sub: UserIdSchema, name: DisplayNameSchema });

/**
 * Who a token names (`sub`, `name`), read without verifying it: the server verifies every token;
 * the client only needs to know whose local database to open, also while offline.
 */
export function tokenUser(token: string): User {
  const payload = token.split('.')[1];
  if (payload === undefined) throw new ClientError('unauthorized', 'the token is not a JWT');
  let json: unknown;
  try {
    const base64 = payload.replace(/-/g, '+').replace(/_/g, '/').padEnd(Math.ceil(payload.length / 4) * 4, '=');
    const bytes = Uint8Array.from(atob(base64), (c) => c.charCodeAt(0));
    json = JSON.parse(new TextDecoder().decode(bytes));
  } catch (error) {
    throw new ClientError('unauthorized', 'the token payload is not JSON', error);
  }
  const claims = ClaimsSchema.safeParse(json);
  if (!claims.success) throw new ClientError('unauthorized', 'the token has no valid sub (uuid) and name claims');
  return { id: claims.data.sub, name: claims.data.name };
}
