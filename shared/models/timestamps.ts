import { z } from 'zod';

/** Timestamps on the JSON surface are ISO 8601 strings in UTC (`2026-11-24T08:00:00.000Z`). */
export const TimestampSchema = z.iso.datetime({ offset: true });
export type Timestamp = z.infer<typeof TimestampSchema>;

export const toTimestamp = (ms: number): Timestamp => new Date(ms).toISOString();
