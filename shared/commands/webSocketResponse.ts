import { z } from 'zod';
import { RequestIdSchema } from './webSocketCommand.ts';

/**
 * Every answer and every pushed room event. `type` is the command name for answers and an
 * event name (`message_created`, ...) for pushed events; `error` is an error code when
 * `success` is false.
 */
export const WebSocketResponseSchema = z.object({
  type: z.string(),
  success: z.boolean(),
  error: z.string().nullable(),
  data: z.record(z.string(), z.unknown()),
  request_id: RequestIdSchema.optional(),
});
export type WebSocketResponse = z.infer<typeof WebSocketResponseSchema>;
