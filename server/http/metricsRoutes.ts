import { createHash, timingSafeEqual } from 'node:crypto';
import type { Handler } from 'hono';
import { ParleyError } from '../../shared/errors/errorCodes.ts';
import type { ApiEnv, MetricsEndpoint } from './ApiDeps.ts';
import { bearerToken } from './requireAuth.ts';

/** Equal-length digests, so that comparing them takes the same time whatever the token sent. */
const digest = (token: string): Buffer => createHash('sha256').update(token).digest();

/**
 * GET /metrics: needs no user token (a scraper has none); with PARLEY_METRICS_TOKEN set, that
 * token as a bearer token, else 401 `unauthorized`. Never cached: every scrape reads the server now.
 */
export function scrapeMetrics(metrics: MetricsEndpoint): Handler<ApiEnv> {
  const expected = metrics.token === null ? null : digest(metrics.token);
  return async (c) => {
    if (expected) {
      const given = bearerToken(c.req.header('Authorization'));
      if (given === null || !timingSafeEqual(digest(given), expected)) {
        throw new ParleyError('unauthorized', 'GET /metrics needs "Authorization: Bearer <PARLEY_METRICS_TOKEN>"');
      }
    }
    const { contentType, text } = await metrics.scrape();
    return c.body(text, 200, { 'Content-Type': contentType, 'Cache-Control': 'no-store' });
  };
}
