import { z } from 'zod';

/**
 * Why the server refused an update (docs/protocol.md, "Refused updates"). A refused update is not
 * applied, stored or relayed; a `?parley=1` client receives `error(code, reason)` with one of these
 * codes, then the connection closes with the code `refusalCloseCode` names: 4422 UpdateRefused, or
 * a close a stock client retries after for a condition that time or an owner can fix.
 */
export const UPDATE_REFUSAL_CODES = {
  /** The bytes do not decode as a Yjs V1 update. */
  malformed_update: 'the bytes do not decode as a Yjs V1 update',
  /** Items or deletions depend on structs the server does not have (a clock gap, a missing origin). */
  missing_dependencies: 'the update depends on changes the server does not have',
  /** A Yjs client id in the update belongs to another user (or to the server). */
  client_id_taken: 'a client id in the update belongs to someone else',
  /** Too many new client ids in one update, or for one user in one room. */
  too_many_client_ids: 'too many client ids',
  /** A root type, key or content type that is not part of the room document layout. */
  bad_layout: 'the change is outside the room document layout',
  /** A value of the wrong shape (schema), including `__proto__`-style keys. */
  bad_value: 'a value does not match the room document layout',
  /** A message written as someone else, a system message, or one dated too far in the future. */
  bad_message: 'a message breaks the creation rules',
  /**
   * A message's `attachments` name something that is not an upload of the sender to this room, or
   * differ from the upload's record (name, type, size, dimensions); or an edit changed them.
   */
  bad_attachment: 'an attachment reference names no upload of the sender to this room, or differs from its record',
  /** A change the sender is not allowed to make (another's message, reaction or read position). */
  forbidden: 'the sender may not make this change',
  /** A read position that names no message or moves backwards. */
  bad_read_position: 'a read position names no message or moves backwards',
  /** A reaction or deletion for a message the room does not have. */
  unknown_message: 'the change names a message the room does not have',
  /** A value or a change over one of the documented value limits (shared/roomDoc/valueLimits.ts). */
  over_limit: 'a value or a change is over a documented limit',
  /** The room document reached the server's size limit. */
  document_too_large: 'the room document reached its size limit',
  /** The sender added more to this room lately than one member may (PARLEY_MEMBER_GROWTH_BYTES_PER_HOUR). */
  member_quota: 'the sender added more to this room lately than one member may',
} as const;

export type UpdateRefusalCode = keyof typeof UPDATE_REFUSAL_CODES;
export const UpdateRefusalCodeSchema = z.enum(Object.keys(UPDATE_REFUSAL_CODES) as [UpdateRefusalCode, ...UpdateRefusalCode[]]);

/** A refused update: a code from the list above and a sentence for people (logs, the error message). */
export interface UpdateRefusal {
  readonly code: UpdateRefusalCode;
  readonly reason: string;
}

/**
 * The close that follows a refusal. A full room (an owner can delete messages) and a member over
 * their growth share (time fixes it) close with 45xx, which stock providers retry after a
 * backoff, re-sending the same change; everything else is 4422, which reconnecting cannot fix.
 */
export function refusalCloseCode(code: UpdateRefusalCode): 'UpdateRefused' | 'DocumentTooLarge' | 'RateLimited' {
  if (code === 'document_too_large') return 'DocumentTooLarge';
  if (code === 'member_quota') return 'RateLimited';
  return 'UpdateRefused';
}
