import { z } from 'zod';
import { toTimestamp } from '../../shared/models/timestamps.ts';

/**
 * Rows read from SQLite are input like any other: a file edited by hand, a half-applied
 * migration or a bug elsewhere must fail loudly at the read, not deep inside a handler.
 * Storage conventions: timestamps are integer Unix milliseconds, booleans 0/1, JSON as text.
 */

/** An integer-ms column, returned as the ISO 8601 string of the shared models. */
export const SqlTimestamp = z.number().int().nonnegative().transform(toTimestamp);

/** A 0/1 column. */
export const SqlBoolean = z.union([z.literal(0), z.literal(1)]).transform((value) => value === 1);

/** A TEXT column holding JSON that must match `schema`. */
export function sqlJson<T>(schema: z.ZodType<T>): z.ZodType<T, string> {
  return z
    .string()
    .transform((text, ctx): unknown => {
      try {
        return JSON.parse(text);
      } catch {
        ctx.addIssue({ code: 'custom', message: 'not valid JSON' });
        return z.NEVER;
      }
    })
    .pipe(schema);
}

/** A stored row that does not match its schema: a server fault (500), never the client's. */
export class CorruptRowError extends Error {
  override name = 'CorruptRowError';
  constructor(table: string, cause: z.ZodError) {
    super(`corrupt row in ${table}: ${z.prettifyError(cause)}`, { cause });
  }
}

export function parseRow<S extends z.ZodType>(schema: S, row: unknown, table: string): z.output<S> {
  const parsed = schema.safeParse(row);
  if (!parsed.success) throw new CorruptRowError(table, parsed.error);
  return parsed.data;
}

const StateRowSchema = z.object({ state_vector: z.instanceof(Buffer) });

/** A recorded state vector's row (search_indexed, attachment_tracked: either backend), or null for none. */
export function stateVectorOf(row: unknown, table: string): Uint8Array | null {
  return row === undefined ? null : new Uint8Array(parseRow(StateRowSchema, row, table).state_vector);
}

/** Binds a list of ids as one JSON parameter (`IN (SELECT value FROM json_each(?))`), so one prepared statement serves any list length. */
export const jsonIdList = (ids: readonly string[]): string => JSON.stringify(ids);
