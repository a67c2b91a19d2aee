import { WebSessionSchema, type WebSession } from '../../shared/models/webSession.ts';
import { tokenUser } from '../identity/tokenClaims.ts';
import { ClientError } from '../errors/ClientError.ts';

const KEY = 'parley:session';

export type LoadedSession = { readonly session: WebSession } | { readonly session: null; readonly problem: string | null };

/** Seconds since the epoch at which a JWT expires, or null when it carries no `exp`. */
export function tokenExpiry(token: string): number | null {
  try {
    const payload = token.split('.')[1] ?? '';
    const json: unknown = JSON.parse(atob(payload.replace(/-/g, '+').replace(/_/g, '/')));
    const exp = typeof json === 'object' && json !== null && 'exp' in json ? json.exp : null;
    return typeof exp === 'number' ? exp : null;
  } catch {
    return null;
  }
}

/** A session for `token`, or a ClientError('unauthorized') saying why the token is unusable. */
export function sessionFromToken(token: string, devName: string | null, now = Date.now()): WebSession {
  const user = tokenUser(token);
  const exp = tokenExpiry(token);
  // A dev session renews itself by logging in again; a token from elsewhere cannot.
  if (devName === null && exp !== null && exp * 1000 <= now) throw new ClientError('unauthorized', 'this token has expired');
  return { version: 1, token, user, devName };
}

/** The stored session, parsed; a malformed or expired one is dropped with the reason. */
export function loadSession(storage: Storage = localStorage, now = Date.now()): LoadedSession {
  const raw = storage.getItem(KEY);
  if (raw === null) return { session: null, problem: null };
  let json: unknown;
  try {
    json = JSON.parse(raw);
  } catch {
    json = null;
  }
  const parsed = WebSessionSchema.safeParse(json);
  if (!parsed.success) {
    storage.removeItem(KEY);
    return { session: null, problem: 'Your saved session was unreadable. Please sign in again.' };
  }
  try {
    return { session: sessionFromToken(parsed.data.token, parsed.data.devName, now) };
  } catch (error) {
    storage.removeItem(KEY);
    return { session: null, problem: `Your session ended (${error instanceof Error ? error.message : String(error)}). Please sign in again.` };
  }
}

export function saveSession(session: WebSession, storage: Storage = localStorage): void {
  storage.setItem(KEY, JSON.stringify(session));
}

export function clearSession(storage: Storage = localStorage): void {
  storage.removeItem(KEY);
}
