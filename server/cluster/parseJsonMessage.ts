import type { z } from 'zod';

/**
 * A message another node put in Redis, as `schema` has it, or null when it is not JSON or does
 * not match: Redis is an input like a socket, and a bad entry is skipped, never trusted.
 */
export function parseJsonMessage<S extends z.ZodType>(schema: S, raw: string | undefined): z.output<S> | null {
  let json: unknown;
  try {
    json = JSON.parse(raw ?? '');
  } catch {
    return null;
  }
  const parsed = schema.safeParse(json);
  return parsed.success ? parsed.data : null;
}
