import { z } from 'zod';

/** The `data` of every failed answer (`success: false`); `error` holds the code. */
export const CommandErrorDataSchema = z.object({
  /** One line for a human. */
  message: z.string(),
  /** `invalid_payload`: zod's issues, each with the `path` into the frame and a `message`. */
  issues: z.array(z.object({ path: z.array(z.union([z.string(), z.number()])), message: z.string(), code: z.string().optional() })).optional(),
  /** `rate_limited`: when a token is next available. */
  retry_after_ms: z.number().optional(),
  /** `payload_too_large`: the limit in bytes. */
  max_bytes: z.number().optional(),
});
export type CommandErrorData = z.infer<typeof CommandErrorDataSchema>;
