import { describe, expect, it } from 'vitest';
import { MapStorage } from '../../test/support/MapStorage.ts';
import { loadSession, saveSession, sessionFromToken, tokenExpiry } from './session.ts';
import { ClientError } from '../errors/ClientError.ts';


const b64 = (value: unknown): string => Buffer.from(JSON.stringify(value)).toString('base64url');
const jwt = (claims: Record<string, unknown>): string => `${b64({ alg: 'HS256' })}.${b64(claims)}.sig`;
const USER = { sub: '0193a1b2-c3d4-4e5f-8a6b-7c8d9e0f1a2b', name: 'Ana' };
const NOW = 1_800_000_000_000;

describe('web session', () => {
  it('saves and loads a session, parsed', () => {
    const storage = new MapStorage();
    const session = sessionFromToken(jwt({ ...USER, exp: NOW / 1000 + 60 }), null, NOW);
    saveSession(session, storage);
    expect(loadSession(storage, NOW)).toEqual({ session });
    expect(tokenExpiry(session.token)).toBe(NOW / 1000 + 60);
  });

  it('drops a malformed session with a reason', () => {
    const storage = new MapStorage();
    storage.setItem('parley:session', '{"version":1,"token":""}');
    expect(loadSession(storage, NOW)).toEqual({ session: null, problem: expect.stringContaining('unreadable') });
    expect(storage.getItem('parley:session')).toBeNull();
    storage.setItem('parley:session', 'not json');
    expect(loadSession(storage, NOW).session).toBeNull();
  });

  it('drops an expired token session, but keeps a dev session (it renews by name)', () => {
    const storage = new MapStorage();
    const expired = jwt({ ...USER, exp: NOW / 1000 - 1 });
    expect(() => sessionFromToken(expired, null, NOW)).toThrow(ClientError);
    saveSession({ version: 1, token: expired, user: { id: USER.sub, name: USER.name }, devName: null }, storage);
    expect(loadSession(storage, NOW)).toEqual({ session: null, problem: expect.stringContaining('expired') });
    const dev = sessionFromToken(expired, 'Ana', NOW);
    saveSession(dev, storage);
    expect(loadSession(storage, NOW)).toEqual({ session: dev });
  });

  it('refuses a token without usable claims', () => {
    expect(() => sessionFromToken('abc', null, NOW)).toThrow(/not a JWT/);
    expect(() => sessionFromToken(jwt({ name: 'Ana' }), null, NOW)).toThrow(/sub/);
  });
});
