import { z } from 'zod';
import { UserIdSchema } from '../../shared/ids.ts';
import { ParleyError } from '../../shared/errors/errorCodes.ts';
import { DisplayNameSchema, type User } from '../../shared/models/user.ts';

/** The authenticated identity of a request or connection. */
export type AuthUser = User;

/**
 * What every endpoint (REST, sync, commands) asks of authentication: the user a token names, or
 * a ParleyError('unauthorized') saying why not. The built-in TokenService verifies HS256 JWTs;
 * a host app plugs in its own check with `createParleyServer({ verifyToken })`.
 */
export interface TokenVerifier {
  verify(token: string | null | undefined): Promise<AuthUser>;
}

/**
 * A host app's own token check: the user (`id` a uuid, `name` a display name) or a throw. Its
 * result is parsed like any input from outside, and whatever it throws becomes 401 / close 4401.
 */
export type VerifyToken = (token: string) => Promise<{ id: string; name: string }> | { id: string; name: string };

const HostUserSchema = z.object({ id: UserIdSchema, name: DisplayNameSchema });

/** Wraps a host's VerifyToken into a TokenVerifier. */
export function hostTokenVerifier(verifyToken: VerifyToken): TokenVerifier {
  return {
    async verify(token) {
      if (!token) throw new ParleyError('unauthorized', 'missing token');
      let result: unknown;
      try {
        result = await verifyToken(token);
      } catch (err) {
        throw new ParleyError('unauthorized', `token rejected: ${err instanceof Error ? err.message : String(err)}`);
      }
      const user = HostUserSchema.safeParse(result);
      if (!user.success) throw new ParleyError('unauthorized', 'verifyToken must return { id: uuid, name: display name }');
      return user.data;
    },
  };
}

/** Accepts a token if any verifier does (dev login's own tokens next to a host's, say); the last refusal otherwise. */
export function anyTokenVerifier(verifiers: readonly TokenVerifier[]): TokenVerifier {
  return {
    async verify(token) {
      let refusal: unknown = new ParleyError('unauthorized', 'missing token');
      for (const verifier of verifiers) {
        try {
          return await verifier.verify(token);
        } catch (err) {
          refusal = err;
        }
      }
      throw refusal;
    },
  };
}
