import { createHmac, timingSafeEqual } from 'node:crypto';

/**
 * The webhook's signature (docs/notifications.md): `sha256=` and the hex HMAC-SHA256, keyed with
 * PARLEY_WEBHOOK_SECRET, of `<timestamp>.<body>`: the X-Parley-Timestamp value (Unix seconds), a
 * dot, and the raw request body. Signing the timestamp lets a receiver refuse an old request
 * replayed by someone who captured it.
 */
export function signWebhook(secret: string, timestampSeconds: number, body: string): string {
  return `sha256=${createHmac('sha256', secret).update(`${timestampSeconds}.${body}`).digest('hex')}`;
}

/** How old a signed timestamp a receiver accepts by default: 5 minutes either way. */
export const DEFAULT_TOLERANCE_SECONDS = 300;

/**
 * Checks a webhook request as a receiver should: the signature over the raw body in constant
 * time, and a timestamp within `toleranceSeconds` of `nowMs`. Exported for host apps written in
 * Node and for the tests.
 */
export function verifyWebhook(
  secret: string,
  request: { readonly signature: string | null | undefined; readonly timestamp: string | null | undefined; readonly body: string },
  { toleranceSeconds = DEFAULT_TOLERANCE_SECONDS, nowMs = Date.now() }: { toleranceSeconds?: number; nowMs?: number } = {},
): boolean {
  const { signature, timestamp, body } = request;
  if (!signature || !timestamp || !/^\d{1,12}$/.test(timestamp)) return false;
  const seconds = Number(timestamp);
  if (Math.abs(nowMs / 1000 - seconds) > toleranceSeconds) return false;
  const expected = Buffer.from(signWebhook(secret, seconds, body));
  const given = Buffer.from(signature);
  return given.length === expected.length && timingSafeEqual(given, expected);
}
