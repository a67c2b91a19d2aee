import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { uuidv4 } from '../../shared/ids.ts';
import { UserIdSchema } from '../../shared/ids.ts';
import { MeSchema } from '../../shared/models/userPresence.ts';
import { DevLoginResponseSchema } from '../../shared/models/user.ts';
import { PresenceTracker } from '../presence/PresenceTracker.ts';
import { MAX_BODY_BYTES } from './createApi.ts';
import { expectError, signRawToken, startApi, type ApiHarness } from '../../test/support/apiHarness.ts';

describe('health, routing and error envelope', () => {
  let h: ApiHarness;
  beforeAll(async () => {
    h = await startApi();
  });
  afterAll(() => h.close());

  it('GET /healthz answers without a token', async () => {
    const res = await h.request('GET', '/healthz');
    expect(res).toMatchObject({ status: 200, body: { ok: true } });
  });

  it('an unknown route is 404 not_found for an authenticated caller', async () => {
    const ana = await h.login('Ana');
    expectError(await h.request('GET', '/api/nope', { as: ana }), 'not_found');
    expectError(await h.request('GET', '/nope'), 'not_found');
  });

  it('an unknown /api route is 401 without a token (routes are not probed anonymously)', async () => {
    expectError(await h.request('GET', '/api/nope'), 'unauthorized');
  });

  it('unparseable JSON is 400 invalid_json; an empty body too', async () => {
    const ana = await h.login('Ana');
    const bad = expectError(await h.request('POST', '/api/rooms', { as: ana, rawBody: '{"type": ' }), 'invalid_json');
    expect(bad.message).toMatch(/not valid JSON/);
    const empty = expectError(await h.request('POST', '/api/rooms', { as: ana, rawBody: '' }), 'invalid_json');
    expect(empty.message).toMatch(/empty/);
  });

  it('a body over the limit is 413 payload_too_large', async () => {
    const ana = await h.login('Ana');
    const huge = JSON.stringify({ type: 'group', name: 'x', extra_metadata: { blob: 'a'.repeat(MAX_BODY_BYTES) } });
    expectError(await h.request('POST', '/api/rooms', { as: ana, rawBody: huge }), 'payload_too_large');
  });
});

describe('POST /api/auth/dev-login', () => {
  let h: ApiHarness;
  beforeAll(async () => {
    h = await startApi({ devLogin: true });
  });
  afterAll(() => h.close());

  it('mints a token for a new name and the token works', async () => {
    const res = await h.request('POST', '/api/auth/dev-login', { json: { name: '  Bruno  ' } });
    expect(res.status).toBe(200);
    const { token, user } = DevLoginResponseSchema.parse(res.body);
    expect(user.name).toBe('Bruno');
    expect(UserIdSchema.safeParse(user.id).success).toBe(true);
    const me = await h.request('GET', '/api/me', { as: token });
    expect(MeSchema.parse(me.body).user).toEqual(user);
  });

  it('the same name logs into the same user (two devices of one person)', async () => {
    const phone = await h.login('Carla');
    const laptop = await h.login('Carla');
    expect(laptop.user.id).toBe(phone.user.id);
    expect(laptop.token).not.toBe('');
    const other = await h.login('carla');
    expect(other.user.id).not.toBe(phone.user.id);
  });

  it('with user_id logs in as that id and records the name', async () => {
    const id = uuidv4();
    const res = await h.request('POST', '/api/auth/dev-login', { json: { name: 'Dora', user_id: id } });
    expect(DevLoginResponseSchema.parse(res.body).user).toEqual({ id, name: 'Dora' });
    expect(h.directory.users.get(id)).toEqual({ id, name: 'Dora' });
  });

  it('rejects a bad body with 400 invalid_payload and the zod issues', async () => {
    const error = expectError(await h.request('POST', '/api/auth/dev-login', { json: { name: '', user_id: 'nope', extra: 1 } }), 'invalid_payload');
    const issues = error.details as Array<{ path: unknown[]; code: string }>;
    expect(issues.map((i) => i.path[0] ?? i.code).sort()).toEqual(expect.arrayContaining(['name', 'user_id']));
    expect(issues.some((i) => i.code === 'unrecognized_keys')).toBe(true);
  });
});

describe('dev login disabled', () => {
  let h: ApiHarness;
  beforeAll(async () => {
    h = await startApi({ devLogin: false });
  });
  afterAll(() => h.close());

  it('POST /api/auth/dev-login is 404 dev_login_disabled, whatever the body', async () => {
    expectError(await h.request('POST', '/api/auth/dev-login', { json: { name: 'Ana' } }), 'dev_login_disabled');
    expectError(await h.request('POST', '/api/auth/dev-login', { rawBody: 'garbage' }), 'dev_login_disabled');
  });

  it('tokens from the host app still work', async () => {
    const ana = await h.sessionFor('Ana');
    expect((await h.request('GET', '/api/me', { as: ana })).status).toBe(200);
  });
});

describe('bearer authentication', () => {
  let h: ApiHarness;
  beforeAll(async () => {
    h = await startApi();
  });
  afterAll(() => h.close());

  const reasonOf = async (headers: Record<string, string>) => {
    const res = await h.request('GET', '/api/me', { headers });
    expect(res.headers.get('www-authenticate')).toBe('Bearer');
    return expectError(res, 'unauthorized').message;
  };

  it('401 without an Authorization header', async () => {
    expect(await reasonOf({})).toBe('missing token');
  });

  it('401 for a header that is not a Bearer token', async () => {
    expect(await reasonOf({ authorization: 'Basic YWxhZGRpbjpvcGVuc2VzYW1l' })).toMatch(/Bearer/);
    expect(await reasonOf({ authorization: 'Bearer' })).toMatch(/Bearer/);
  });

  it('401 for a token signed with another secret, or not a JWT at all', async () => {
    const forged = await signRawToken({ sub: uuidv4(), name: 'Eve' }, { secret: 'another-secret-that-is-32-bytes-long!!' });
    expect(await reasonOf({ authorization: `Bearer ${forged}` })).toBe('invalid token');
    expect(await reasonOf({ authorization: 'Bearer not.a.jwt' })).toBe('invalid token');
  });

  it('401 for an expired token', async () => {
    const expired = await signRawToken({ sub: uuidv4(), name: 'Ana' }, { expiresAt: Math.floor(Date.now() / 1000) - 60 });
    expect(await reasonOf({ authorization: `Bearer ${expired}` })).toBe('token expired');
  });

  it('401 for a token without a uuid sub and a name', async () => {
    const token = await signRawToken({ sub: 'ana', name: 'Ana' });
    expect(await reasonOf({ authorization: `Bearer ${token}` })).toMatch(/claims/);
  });

  it('every authenticated request records the name in the token', async () => {
    const id = uuidv4();
    const first = await h.sessionFor('Old name', id);
    await h.request('GET', '/api/me', { as: first });
    expect(h.directory.users.get(id)?.name).toBe('Old name');
    const renamed = await h.sessionFor('New name', id);
    await h.request('GET', '/api/rooms', { as: renamed });
    expect(h.directory.users.get(id)?.name).toBe('New name');
  });
});

describe('unexpected failures', () => {
  class BrokenTracker extends PresenceTracker {
    override isOnline(): boolean {
      throw new Error('tracker exploded at /secret/path.ts:42');
    }
  }
  let h: ApiHarness;
  beforeAll(async () => {
    h = await startApi({ presence: new BrokenTracker() });
  });
  afterAll(() => h.close());

  it('are 500 internal without the message or stack, and are logged', async () => {
    const ana = await h.login('Ana');
    const res = await h.request('GET', '/api/me', { as: ana });
    const error = expectError(res, 'internal');
    expect(error.message).toBe('internal server error');
    expect(JSON.stringify(res.body)).not.toMatch(/exploded|secret|\.ts/);
    const logged = h.logLines.map((line) => JSON.parse(line) as { msg: string; err?: { message: string } });
    expect(logged.some((l) => l.msg === 'unhandled error in REST API' && l.err?.message.includes('exploded'))).toBe(true);
  });
});
