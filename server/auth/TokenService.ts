import fs from 'node:fs';
import path from 'node:path';
import crypto from 'node:crypto';
import { SignJWT, jwtVerify, errors as joseErrors } from 'jose';
import { z } from 'zod';
import { UserIdSchema } from '../../shared/ids.ts';
import { DisplayNameSchema } from '../../shared/models/user.ts';
import type { AuthUser, TokenVerifier } from './TokenVerifier.ts';
import { ParleyError } from '../../shared/errors/errorCodes.ts';
import { VerifiedTokens } from './VerifiedTokens.ts';

/** The claims Parley reads from a token: `sub` is the user id, `name` the display name. */
const ClaimsSchema = z.object({
  sub: UserIdSchema,
  name: DisplayNameSchema,
  exp: z.number().optional(),
});

export type { AuthUser } from './TokenVerifier.ts';

/**
 * Verifies (and, for dev login, mints) HS256 JWTs signed with one shared secret. The key is
 * imported into WebCrypto once (jose imports raw bytes again on every call), and a token verified
 * once is remembered until it expires (VerifiedTokens).
 */
export class TokenService implements TokenVerifier {
  readonly #key: Uint8Array;
  /** Imported on the first check, so that a key WebCrypto refuses fails that check, not the process. */
  #cryptoKey: Promise<CryptoKey> | null = null;
  readonly #verified = new VerifiedTokens();

  constructor(secret: string) {
    this.#key = new TextEncoder().encode(secret);
  }

  async sign(user: AuthUser, ttlSeconds: number): Promise<string> {
    return new SignJWT({ name: user.name })
      .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
      .setSubject(user.id)
      .setIssuedAt()
      .setExpirationTime(`${ttlSeconds}s`)
      .sign(this.#key);
  }

  /** The token's user, or a ParleyError('unauthorized') saying why not. */
  async verify(token: string | null | undefined): Promise<AuthUser> {
    if (!token) throw new ParleyError('unauthorized', 'missing token');
    const known = this.#verified.get(token);
    if (known) return known;
    let payload: unknown;
    try {
      this.#cryptoKey ??= crypto.webcrypto.subtle.importKey('raw', this.#key, { name: 'HMAC', hash: 'SHA-256' }, false, ['verify']);
      ({ payload } = await jwtVerify(token, await this.#cryptoKey, { algorithms: ['HS256'] }));
    } catch (err) {
      if (err instanceof joseErrors.JWTExpired) throw new ParleyError('unauthorized', 'token expired');
      throw new ParleyError('unauthorized', 'invalid token');
    }
    const claims = ClaimsSchema.safeParse(payload);
    if (!claims.success) throw new ParleyError('unauthorized', 'token claims invalid: needs sub (uuid) and name');
    const user = { id: claims.data.sub, name: claims.data.name };
    this.#verified.set(token, user, claims.data.exp);
    return user;
  }
}

/**
 * The dev-mode secret: generated once into the data dir (mode 0600) and reused on restart,
 * so dev tokens survive restarts.
 */
export function loadOrCreateDevSecret(dataDir: string): string {
  const file = path.join(dataDir, 'dev-jwt-secret');
  fs.mkdirSync(dataDir, { recursive: true });
  try {
    const existing = fs.readFileSync(file, 'utf8').trim();
    if (existing.length >= 32) return existing;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
  const secret = crypto.randomBytes(32).toString('base64url');
  fs.writeFileSync(file, secret + '\n', { mode: 0o600 });
  return secret;
}
