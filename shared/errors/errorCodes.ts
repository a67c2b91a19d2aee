import { z } from 'zod';

/**
 * The one list of expected failures. REST answers `{error: {code, message, details}}` with the
 * status below; the command gateway answers `{success: false, error: code}`.
 */
export const ERROR_STATUS = {
  invalid_payload: 400,
  invalid_json: 400,
  /** Command gateway: a `command` that is not one of the eleven. */
  unknown_command: 400,
  unauthorized: 401,
  forbidden: 403,
  not_a_member: 403,
  room_inactive: 403,
  dev_login_disabled: 404,
  not_found: 404,
  conflict: 409,
  /** Command gateway: a command that needs `join_room` first (typing, leave_room). */
  not_joined: 409,
  /** The message was deleted: it takes no edits and no reactions. */
  message_deleted: 410,
  payload_too_large: 413,
  /** An upload would take the uploader's live attachments past PARLEY_ATTACHMENT_QUOTA_BYTES (docs/attachments.md). */
  quota_exceeded: 413,
  /** A `Range` that lies outside the file (docs/attachments.md); Content-Range names the size. */
  range_not_satisfiable: 416,
  /** The room's stored document reached PARLEY_MAX_DOC_BYTES. */
  document_too_large: 413,
  rate_limited: 429,
  /** The member added more to the room lately than PARLEY_MEMBER_GROWTH_BYTES_PER_HOUR allows. */
  member_quota: 429,
  internal: 500,
  /** GET /api/search while the search index's thread is down (docs/search.md, "Where the index lives"): retry later. */
  search_unavailable: 503,
  /** Several nodes: the room is owned by another node, or its owner cannot be reached (docs/scale-out.md): retry, on a connection routed afresh. */
  owner_unavailable: 503,
} as const;

export type ErrorCode = keyof typeof ERROR_STATUS;
export const ErrorCodeSchema = z.enum(Object.keys(ERROR_STATUS) as [ErrorCode, ...ErrorCode[]]);

export const ApiErrorBodySchema = z.object({
  error: z.object({
    code: ErrorCodeSchema,
    message: z.string(),
    details: z.unknown().optional(),
  }),
});
export type ApiErrorBody = z.infer<typeof ApiErrorBodySchema>;

/** An expected failure carried as a value up to the edge that maps it to a status or frame. */
export class ParleyError extends Error {
  readonly code: ErrorCode;
  readonly details: unknown;
  constructor(code: ErrorCode, message: string, details?: unknown) {
    super(message);
    this.name = 'ParleyError';
    this.code = code;
    this.details = details;
  }
  get status(): number {
    return ERROR_STATUS[this.code];
  }
  toBody(): ApiErrorBody {
    return { error: { code: this.code, message: this.message, ...(this.details === undefined ? {} : { details: this.details }) } };
  }
}
