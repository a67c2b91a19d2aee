import type { Context } from 'hono';
import type { z } from 'zod';
import { ParleyError } from '../../shared/errors/errorCodes.ts';
import { invalidPayload } from './errorHandling.ts';

/** The JSON body parsed by `schema`: 400 `invalid_json` when it is not JSON, `invalid_payload` when it does not fit. */
export async function parseJsonBody<S extends z.ZodType>(c: Context, schema: S): Promise<z.output<S>> {
  const text = await c.req.text();
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new ParleyError('invalid_json', text === '' ? 'request body is empty; expected JSON' : 'request body is not valid JSON');
  }
  const parsed = schema.safeParse(value);
  if (!parsed.success) throw invalidPayload(parsed.error, 'request body');
  return parsed.data;
}

/** The query string (first value of each key) parsed by `schema`. */
export function parseQuery<S extends z.ZodType>(c: Context, schema: S): z.output<S> {
  const parsed = schema.safeParse(c.req.query());
  if (!parsed.success) throw invalidPayload(parsed.error, 'query string');
  return parsed.data;
}

/**
 * A path parameter parsed by `schema`. A malformed id names no resource, so it is a 404
 * `not_found` like an unknown one, not a 400.
 */
export function parsePathParam<S extends z.ZodType>(c: Context, name: string, schema: S, what: string): z.output<S> {
  const parsed = schema.safeParse(c.req.param(name));
  if (!parsed.success) throw new ParleyError('not_found', `no such ${what}`);
  return parsed.data;
}
