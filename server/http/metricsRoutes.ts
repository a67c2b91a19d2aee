import type { Handler } from 'hono';
import { ParleyError } from '../../shared/errors/errorCodes.ts';
import type { ApiEnv, MetricsEndpoint } from './ApiDeps.ts';
import { bearerMatcher } from '../auth/bearerToken.ts';

/**
 * GET /metrics: needs no user token (a scraper has none); with PARLEY_METRICS_TOKEN set, that
 * token as a bearer token, else 401 `unauthorized`. Never cached: every scrape reads the server now.
 */
export function scrapeMetrics(metrics: MetricsEndpoint): Handler<ApiEnv> {
  const matches = metrics.token === null ? null : bearerMatcher(metrics.token);
  return async (c) => {
    if (matches) {
      if (!matches(c.req.header('Authorization'))) {
        throw new ParleyError('unauthorized', 'GET /metrics needs "Authorization: Bearer <PARLEY_METRICS_TOKEN>"');
      }
    }
    const { contentType, text } = await metrics.scrape();
    return c.body(text, 200, { 'Content-Type': contentType, 'Cache-Control': 'no-store' });
  };
}
