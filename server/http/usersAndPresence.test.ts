import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { uuidv4 } from '../../shared/ids.ts';
import { MAX_USER_IDS_PER_QUERY, UserListSchema } from '../../shared/models/user.ts';
import { MeSchema, PresenceListSchema, UserPresenceSchema } from '../../shared/models/userPresence.ts';
import { toTimestamp } from '../../shared/models/timestamps.ts';
import { expectError, startApi, T0, type ApiHarness, type Session } from '../../test/support/apiHarness.ts';

let h: ApiHarness;
let ana: Session;

beforeEach(async () => {
  h = await startApi();
  ana = await h.login('Ana');
});
afterEach(() => h.close());

describe('GET /api/me and PUT /api/me/status', () => {
  it('returns the caller and their presence', async () => {
    const res = await h.request('GET', '/api/me', { as: ana });
    expect(res.status).toBe(200);
    expect(MeSchema.parse(res.body)).toEqual({
      user: ana.user,
      presence: { user_id: ana.user.id, is_online: false, last_seen_at: null, status: null },
    });
  });

  it('sets, trims and clears the status; presence listeners hear about it', async () => {
    const heard: string[] = [];
    h.presence.on((change) => heard.push(`${change.userId}:${change.cause}`));
    const stopped = h.presence.connect(ana.user.id);

    const set = await h.request('PUT', '/api/me/status', { as: ana, json: { status: '  in a meeting ' } });
    expect(set.status).toBe(200);
    expect(UserPresenceSchema.parse(set.body)).toEqual({ user_id: ana.user.id, is_online: true, last_seen_at: null, status: 'in a meeting' });
    expect(MeSchema.parse((await h.request('GET', '/api/me', { as: ana })).body).presence.status).toBe('in a meeting');

    for (const status of ['   ', null]) {
      const cleared = await h.request('PUT', '/api/me/status', { as: ana, json: { status } });
      expect(UserPresenceSchema.parse(cleared.body).status).toBeNull();
    }
    expect(heard).toEqual([`${ana.user.id}:connected`, ...Array(3).fill(`${ana.user.id}:status`)]);
    stopped();
  });

  it('400 for a status too long, missing, or with extra fields', async () => {
    for (const json of [{ status: 'x'.repeat(141) }, {}, { status: 'ok', mood: 'happy' }]) {
      expectError(await h.request('PUT', '/api/me/status', { as: ana, json }), 'invalid_payload');
    }
    expectError(await h.request('PUT', '/api/me/status', { as: ana, rawBody: 'ok' }), 'invalid_json');
  });
});

describe('GET /api/presence', () => {
  it('is_online from the tracker, last seen and status from storage, in request order', async () => {
    const bruno = await h.login('Bruno');
    const never = uuidv4();
    h.presence.connect(ana.user.id);
    h.directory.presence.setLastSeen(bruno.user.id, T0 + 5000);
    h.directory.presence.setStatus(bruno.user.id, 'away');

    const res = await h.request('GET', `/api/presence?user_ids=${never},${bruno.user.id},${ana.user.id},${never}`, { as: ana });
    expect(res.status).toBe(200);
    expect(PresenceListSchema.parse(res.body).presence).toEqual([
      { user_id: never, is_online: false, last_seen_at: null, status: null },
      { user_id: bruno.user.id, is_online: false, last_seen_at: toTimestamp(T0 + 5000), status: 'away' },
      { user_id: ana.user.id, is_online: true, last_seen_at: null, status: null },
    ]);
  });

  it(`400 for a missing list, a malformed id, or more than ${MAX_USER_IDS_PER_QUERY} ids`, async () => {
    expectError(await h.request('GET', '/api/presence', { as: ana }), 'invalid_payload');
    expectError(await h.request('GET', '/api/presence?user_ids=', { as: ana }), 'invalid_payload');
    const bad = expectError(await h.request('GET', `/api/presence?user_ids=${uuidv4()},nope`, { as: ana }), 'invalid_payload');
    expect(bad.details).toEqual([expect.objectContaining({ path: ['user_ids', 1] })]);
    const many = Array.from({ length: MAX_USER_IDS_PER_QUERY + 1 }, () => uuidv4()).join(',');
    expectError(await h.request('GET', `/api/presence?user_ids=${many}`, { as: ana }), 'invalid_payload');
    const max = Array.from({ length: MAX_USER_IDS_PER_QUERY }, () => uuidv4()).join(',');
    expect(PresenceListSchema.parse((await h.request('GET', `/api/presence?user_ids=${max}`, { as: ana })).body).presence).toHaveLength(
      MAX_USER_IDS_PER_QUERY,
    );
  });

  it('401 without a token', async () => {
    expectError(await h.request('GET', `/api/presence?user_ids=${ana.user.id}`), 'unauthorized');
  });
});

describe('GET /api/users', () => {
  const users = async (query: string) => {
    const res = await h.request('GET', `/api/users?${query}`, { as: ana });
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    return UserListSchema.parse(res.body).users.map((u) => u.name);
  };

  it('q finds names by prefix, case-insensitively, in name order, at most 20', async () => {
    for (const name of ['anabel', 'Andrés', 'Bruno', 'an_x', 'an%y']) await h.login(name);
    expect(await users('q=an')).toEqual(['an%y', 'an_x', 'Ana', 'anabel', 'Andrés']);
    // LIKE wildcards in the prefix are literal.
    expect(await users('q=an_')).toEqual(['an_x']);
    expect(await users(`q=${encodeURIComponent('an%')}`)).toEqual(['an%y']);
    expect(await users('q=zz')).toEqual([]);
    for (let i = 0; i < 25; i++) await h.login(`Many ${String(i).padStart(2, '0')}`);
    expect(await users('q=many')).toHaveLength(20);
  });

  it('ids returns named users in request order, leaving out unknown and never-logged-in ids', async () => {
    const bruno = await h.login('Bruno');
    const placeholder = uuidv4();
    h.directory.users.ensure([placeholder]);
    expect(await users(`ids=${bruno.user.id},${uuidv4()},${placeholder},${ana.user.id}`)).toEqual(['Bruno', 'Ana']);
  });

  it('400 unless exactly one of q or ids is given, and for a malformed id', async () => {
    for (const query of ['', 'q=', `q=a&ids=${ana.user.id}`, 'ids=nope']) {
      expectError(await h.request('GET', `/api/users?${query}`, { as: ana }), 'invalid_payload');
    }
  });
});
