import { describe, expect, it } from 'vitest';
import { recipientsOf, mayNotify } from './recipients.ts';
import { DEFAULT_RETRY, outcomeOf, parseRetryAfter, retryDelay } from './retrySchedule.ts';
import { signWebhook, verifyWebhook } from './webhookSignature.ts';

const ANA = '00000000-0000-4000-8000-00000000000a';
const BEN = '00000000-0000-4000-8000-00000000000b';
const CLEO = '00000000-0000-4000-8000-00000000000c';
const STRANGER = '00000000-0000-4000-8000-0000000000ff';
const everyone = [
  { user_id: ANA, muted: false },
  { user_id: BEN, muted: false },
  { user_id: CLEO, muted: false },
];
const text = (mentionedUsers?: string[]) => ({ senderId: ANA, type: 'text', deletedAt: null, ...(mentionedUsers ? { mentionedUsers } : {}) });

describe('who a new message notifies', () => {
  it('in a group: each mentioned active member, once, never the sender or a stranger', () => {
    expect(recipientsOf(text([BEN, ANA, STRANGER, BEN]), 'group', everyone)).toEqual([{ userId: BEN, type: 'mention' }]);
    expect(recipientsOf(text([CLEO, BEN]), 'channel', everyone)).toEqual([
      { userId: CLEO, type: 'mention' },
      { userId: BEN, type: 'mention' },
    ]);
    expect(recipientsOf(text(), 'group', everyone)).toEqual([]);
  });

  it('in a direct room: the other member, mentioned or not, as a direct message', () => {
    const pair = everyone.slice(0, 2);
    expect(recipientsOf(text(), 'direct', pair)).toEqual([{ userId: BEN, type: 'direct_message' }]);
    expect(recipientsOf(text([BEN]), 'direct', pair)).toEqual([{ userId: BEN, type: 'direct_message' }]);
  });

  it('nobody who muted the room, and nothing for system or deleted messages', () => {
    expect(recipientsOf(text([BEN, CLEO]), 'group', [{ user_id: ANA, muted: false }, { user_id: BEN, muted: true }, { user_id: CLEO, muted: false }])).toEqual([{ userId: CLEO, type: 'mention' }]);
    expect(recipientsOf(text(), 'direct', [{ user_id: ANA, muted: false }, { user_id: BEN, muted: true }])).toEqual([]);
    expect(recipientsOf({ senderId: null, type: 'system', deletedAt: null }, 'direct', everyone)).toEqual([]);
    expect(recipientsOf({ ...text([BEN]), deletedAt: 1 }, 'group', everyone)).toEqual([]);
    expect(mayNotify(text(), false)).toBe(false);
    expect(mayNotify(text(), true)).toBe(true);
  });
});

describe('the webhook signature', () => {
  const secret = 'a-webhook-secret-for-tests';
  const body = '{"type":"mention"}';

  it('is sha256= and the hex HMAC-SHA256 of "<timestamp>.<body>" (checked against openssl)', () => {
    // printf '%s' '1700000000.{"type":"mention"}' | openssl dgst -sha256 -hmac 'a-webhook-secret-for-tests'
    expect(signWebhook(secret, 1_700_000_000, body)).toBe('sha256=26418b9e7b0bc902d95e0b469b3e22fa89a26b26732925b4967e920a4176e812');
  });

  it('verifies only the same body, secret and a recent timestamp', () => {
    const nowMs = 1_700_000_100_000;
    const signature = signWebhook(secret, 1_700_000_000, body);
    expect(verifyWebhook(secret, { signature, timestamp: '1700000000', body }, { nowMs })).toBe(true);
    expect(verifyWebhook(secret, { signature, timestamp: '1700000000', body: body + ' ' }, { nowMs })).toBe(false);
    expect(verifyWebhook('another-secret-for-tests', { signature, timestamp: '1700000000', body }, { nowMs })).toBe(false);
    expect(verifyWebhook(secret, { signature, timestamp: '1700000001', body }, { nowMs })).toBe(false);
    expect(verifyWebhook(secret, { signature, timestamp: '1700000000', body }, { nowMs: nowMs + 600_000 })).toBe(false);
    expect(verifyWebhook(secret, { signature: null, timestamp: '1700000000', body }, { nowMs })).toBe(false);
    expect(verifyWebhook(secret, { signature, timestamp: 'soon', body }, { nowMs })).toBe(false);
  });
});

describe('the retry schedule', () => {
  it('waits between half and all of base × 2^(n−1), capped', () => {
    const schedule = { baseMs: 1_000, maxMs: 10_000, maxAttempts: 5 };
    expect(retryDelay(1, schedule, 0)).toBe(500);
    expect(retryDelay(1, schedule, 0.999_999)).toBe(1_000);
    expect(retryDelay(3, schedule, 0)).toBe(2_000);
    expect(retryDelay(9, schedule, 0.999_999)).toBe(10_000);
    expect(retryDelay(200, schedule, 0)).toBe(5_000);
    // The default schedule gives up after 12 attempts, between about 33 and 66 minutes in.
    const total = (random: number) => Array.from({ length: DEFAULT_RETRY.maxAttempts - 1 }, (_, i) => retryDelay(i + 1, DEFAULT_RETRY, random)).reduce((a, b) => a + b, 0);
    expect(total(0) / 60_000).toBeCloseTo(33.1, 0);
    expect(total(0.999_999) / 60_000).toBeCloseTo(66.25, 0);
  });

  it('delivers on 2xx, gives up on other 4xx than 408 and 429, retries the rest until the last attempt', () => {
    const s = { baseMs: 1_000, maxMs: 10_000, maxAttempts: 3 };
    const status = (code: number, retryAfterMs: number | null = null) => ({ status: code, retryAfterMs });
    expect(outcomeOf(status(200), 1, s, 0)).toEqual({ kind: 'delivered' });
    expect(outcomeOf(status(204), 1, s, 0)).toEqual({ kind: 'delivered' });
    for (const code of [400, 401, 403, 404, 410, 422]) expect(outcomeOf(status(code), 1, s, 0).kind).toBe('give_up');
    for (const code of [301, 408, 429, 500, 502, 503]) expect(outcomeOf(status(code), 1, s, 0, 0)).toEqual({ kind: 'retry', at: 500, reason: `HTTP ${code}` });
    expect(outcomeOf({ error: 'connect ECONNREFUSED' }, 2, s, 100, 0)).toEqual({ kind: 'retry', at: 1_100, reason: 'connect ECONNREFUSED' });
    expect(outcomeOf({ error: 'timed out' }, 3, s, 0)).toEqual({ kind: 'give_up', reason: 'timed out after 3 attempts' });
    // A Retry-After longer than the backoff is honoured.
    expect(outcomeOf(status(429, 30_000), 1, s, 0, 0)).toEqual({ kind: 'retry', at: 30_000, reason: 'HTTP 429' });
  });

  it('reads Retry-After as seconds or a date', () => {
    const now = Date.UTC(2026, 0, 1);
    expect(parseRetryAfter('120', now)).toBe(120_000);
    expect(parseRetryAfter(new Date(now + 5_000).toUTCString(), now)).toBe(5_000);
    expect(parseRetryAfter('whenever', now)).toBeNull();
    expect(parseRetryAfter(null, now)).toBeNull();
  });
});
