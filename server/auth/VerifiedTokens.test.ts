import { afterEach, describe, expect, it, vi } from 'vitest';
import { SignJWT } from 'jose';
import { TokenService } from './TokenService.ts';
import { VerifiedTokens } from './VerifiedTokens.ts';

const ann = { id: '0190a000-0000-7000-8000-00000000a001', name: 'Ann' };
const bob = { id: '0190a000-0000-7000-8000-00000000b002', name: 'Bob' };
const SECRET = 'verified-tokens-test-secret-verified-tokens';

describe('VerifiedTokens', () => {
  it('remembers a token until its exp, and no longer', () => {
    let now = 1_000_000;
    const tokens = new VerifiedTokens({ now: () => now });
    tokens.set('t', ann, 1_060);
    expect(tokens.get('t')).toEqual(ann);
    now = 1_059_999;
    expect(tokens.get('t')).toEqual(ann);
    now = 1_060_000;
    expect(tokens.get('t')).toBeUndefined();
  });

  it('keeps a token without exp for keepMs at most, and never one already expired', () => {
    let now = 0;
    const tokens = new VerifiedTokens({ now: () => now, keepMs: 1_000 });
    tokens.set('forever', ann, undefined);
    tokens.set('gone', bob, -1);
    expect(tokens.get('gone')).toBeUndefined();
    now = 999;
    expect(tokens.get('forever')).toEqual(ann);
    now = 1_000;
    expect(tokens.get('forever')).toBeUndefined();
  });

  it('forgets the oldest token past maxEntries', () => {
    const tokens = new VerifiedTokens({ now: () => 0, maxEntries: 2 });
    tokens.set('a', ann, 100);
    tokens.set('b', bob, 100);
    tokens.set('c', ann, 100);
    expect(tokens.get('a')).toBeUndefined();
    expect(tokens.get('b')).toEqual(bob);
    expect(tokens.get('c')).toEqual(ann);
  });
});

describe('TokenService with remembered tokens', () => {
  afterEach(() => vi.useRealTimers());

  it('refuses a remembered token once it has expired', async () => {
    vi.useFakeTimers({ toFake: ['Date'] });
    vi.setSystemTime(new Date('2026-12-05T12:00:00Z'));
    const service = new TokenService(SECRET);
    const token = await service.sign(ann, 60);
    expect(await service.verify(token)).toEqual(ann);
    expect(await service.verify(token)).toEqual(ann);
    vi.setSystemTime(new Date('2026-12-05T12:01:00Z'));
    await expect(service.verify(token)).rejects.toThrow('token expired');
  });

  it('refuses every token with a key WebCrypto will not import, and keeps serving', async () => {
    const good = await new TokenService(SECRET).sign(ann, 60);
    const emptyKey = new TokenService('');
    await expect(emptyKey.verify(good)).rejects.toThrow('invalid token');
    await expect(emptyKey.verify(good)).rejects.toThrow('invalid token');
  });

  it('never takes a token signed with another secret for one it remembers', async () => {
    const service = new TokenService(SECRET);
    const good = await service.sign(ann, 60);
    expect(await service.verify(good)).toEqual(ann);
    const forged = await new SignJWT({ name: ann.name }).setProtectedHeader({ alg: 'HS256' }).setSubject(ann.id).setExpirationTime('60s').sign(new TextEncoder().encode('another-secret-another-secret-another'));
    await expect(service.verify(forged)).rejects.toThrow('invalid token');
    // Same header and claims, the signature of the good one swapped: still refused.
    const [header, , signature] = good.split('.');
    const otherClaims = Buffer.from(JSON.stringify({ name: bob.name, sub: bob.id, exp: Math.floor(Date.now() / 1000) + 60 })).toString('base64url');
    await expect(service.verify(`${header}.${otherClaims}.${signature}`)).rejects.toThrow('invalid token');
  });
});
