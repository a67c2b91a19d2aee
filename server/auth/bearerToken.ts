import { createHash, timingSafeEqual } from 'node:crypto';
import { ParleyError } from '../../shared/errors/errorCodes.ts';

/** The token of an `Authorization: Bearer <token>` header; null when there is no header at all. */
export function bearerToken(header: string | undefined): string | null {
  if (header === undefined) return null;
  const match = /^Bearer[ \t]+(\S+)\s*$/i.exec(header);
  if (!match?.[1]) throw new ParleyError('unauthorized', 'expected "Authorization: Bearer <token>"');
  return match[1];
}

/** Equal-length digests, so that comparing them takes the same time whatever the token sent. */
const digest = (token: string): Buffer => createHash('sha256').update(token).digest();

/**
 * Whether an `Authorization` header carries `secret` as its bearer token, compared in constant time
 * (PARLEY_METRICS_TOKEN, PARLEY_CLUSTER_SECRET). A missing or malformed header does not.
 */
export function bearerMatcher(secret: string): (header: string | undefined) => boolean {
  const expected = digest(secret);
  return (header) => {
    let given: string | null;
    try {
      given = bearerToken(header);
    } catch {
      return false;
    }
    return given !== null && timingSafeEqual(digest(given), expected);
  };
}
