import type { Context, ErrorHandler, NotFoundHandler } from 'hono';
import type { ContentfulStatusCode } from 'hono/utils/http-status';
import { z } from 'zod';
import { ParleyError } from '../../shared/errors/errorCodes.ts';
import type { Logger } from '../log.ts';

/**
 * Every failure leaves the API as `{error: {code, message, details?}}` with the status of
 * ERROR_STATUS. Only ParleyError carries a client-facing code: anything else is a server fault
 * and becomes a bare 500 `internal`, its stack logged and never sent.
 */

/** A zod failure of request input: 400 `invalid_payload` with the zod issues as `details`. */
export function invalidPayload(error: z.ZodError, what: string): ParleyError {
  return new ParleyError('invalid_payload', `invalid ${what}`, error.issues);
}

/** The details of a 429: how long to wait, also sent as the Retry-After header. */
export const RetryAfterSchema = z.object({ retry_after_seconds: z.number().int().positive() });

function respond(c: Context, error: ParleyError): Response {
  // ERROR_STATUS holds only 4xx/5xx codes, all of which carry a body.
  const status = error.status as ContentfulStatusCode;
  if (error.code === 'unauthorized') c.header('WWW-Authenticate', 'Bearer');
  const retryAfter = RetryAfterSchema.safeParse(error.details);
  if (error.code === 'rate_limited' && retryAfter.success) c.header('Retry-After', String(retryAfter.data.retry_after_seconds));
  return c.json(error.toBody(), status);
}

/**
 * A ZodError reaching this point did not come from request parsing (the parse helpers turn
 * those into ParleyError first): it is a server fault, a 500 like any other throw.
 */
export function errorHandler(logger: Logger): ErrorHandler {
  return (err, c) => {
    if (err instanceof ParleyError) return respond(c, err);
    logger.error({ err, method: c.req.method, path: c.req.path }, 'unhandled error in REST API');
    return respond(c, new ParleyError('internal', 'internal server error'));
  };
}

export const notFoundHandler: NotFoundHandler = (c) => respond(c, new ParleyError('not_found', `no route for ${c.req.method} ${c.req.path}`));
