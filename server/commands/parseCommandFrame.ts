import type { z } from 'zod';
import {
  CommandPayloadSchemas,
  CommandTypeSchema,
  RequestIdSchema,
  WebSocketCommandSchema,
  type CommandPayload,
  type CommandType,
} from '../../shared/commands/webSocketCommand.ts';
import type { CommandErrorData } from '../../shared/commands/commandErrorData.ts';
import { type CommandFailure, commandFailure } from './CommandFailure.ts';

type RequestId = z.infer<typeof RequestIdSchema>;

/** A command whose envelope and payload both parsed. */
export type ParsedCommand = { [C in CommandType]: { command: C; payload: CommandPayload<C> } }[CommandType];

export type FrameParse =
  | { ok: true; command: ParsedCommand; requestId: RequestId | undefined }
  | (CommandFailure & { type: string; requestId: RequestId | undefined });

const issuesOf = (error: z.ZodError): NonNullable<CommandErrorData['issues']> =>
  error.issues.map((i) => ({ path: i.path.map((p) => (typeof p === 'number' ? p : String(p))), message: i.message, code: i.code }));

const utf8 = new TextDecoder('utf-8', { fatal: true });

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * Parses one frame (UTF-8 JSON) of at most `maxBytes` (checked first, before any parsing): the envelope,
 * then the command's own payload with `room_id` taken from the envelope when `data` has none.
 * Every failure is a value naming the error code; `type` is the command when it is known.
 */
export function parseCommandFrame(frame: Uint8Array, maxBytes: number): FrameParse {
  const fail = (type: string, failure: CommandFailure, requestId?: RequestId): FrameParse => ({ ...failure, type, requestId });
  if (frame.byteLength > maxBytes) {
    return fail('error', commandFailure('payload_too_large', `frame of ${frame.byteLength} bytes is over the limit of ${maxBytes}`, { max_bytes: maxBytes }));
  }
  let json: unknown;
  try {
    json = JSON.parse(utf8.decode(frame));
  } catch (err) {
    return fail('error', commandFailure('invalid_json', `frame is not JSON: ${(err as Error).message}`));
  }
  if (!isRecord(json)) return fail('error', commandFailure('invalid_payload', 'a command is a JSON object {command, room_id, data}'));
  // Echoed even when the rest is wrong, so the client can match the error to its request.
  const rid = RequestIdSchema.safeParse(json.request_id);
  const requestId = rid.success ? rid.data : undefined;
  if (typeof json.command === 'string' && !CommandTypeSchema.safeParse(json.command).success) {
    return fail('error', commandFailure('unknown_command', `unknown command ${JSON.stringify(json.command.slice(0, 64))}`), requestId);
  }
  const envelope = WebSocketCommandSchema.safeParse(json);
  if (!envelope.success) {
    const type = typeof json.command === 'string' ? json.command : 'error';
    return fail(type, commandFailure('invalid_payload', 'invalid command envelope', { issues: issuesOf(envelope.error) }), requestId);
  }
  const { command, room_id: envelopeRoom, data } = envelope.data;
  if (envelopeRoom != null && data.room_id !== undefined && data.room_id !== envelopeRoom) {
    return fail(command, commandFailure('invalid_payload', 'room_id differs between the envelope and data', {
      issues: [{ path: ['data', 'room_id'], message: 'must equal the envelope room_id' }],
    }), requestId);
  }
  const merged = { ...data, room_id: data.room_id ?? envelopeRoom ?? undefined };
  const payload = CommandPayloadSchemas[command].safeParse(merged);
  if (!payload.success) {
    const issues = issuesOf(payload.error).map((i) => ({ ...i, path: ['data', ...i.path] }));
    return fail(command, commandFailure('invalid_payload', `invalid data for ${command}`, { issues }), requestId);
  }
  // The pairing of command and payload schema is fixed by CommandPayloadSchemas.
  return { ok: true, command: { command, payload: payload.data } as ParsedCommand, requestId };
}
