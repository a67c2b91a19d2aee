/*
 * What one write may put in a room document (docs/protocol.md, "Value limits"): one set, used by
 * the server's update validator, the JSON command gateway and the SDK's write operations alike
 * (the gateway and the SDK write through messageOps and reactionOps), so that what one accepts
 * the others accept too. Message text is capped by MAX_CONTENT_LENGTH (shared/models) and JSON
 * depth by MAX_JSON_DEPTH (shared/json.ts), in the schemas themselves.
 *
 * The limits apply to writes only: a value already stored (by an older server) stays readable
 * and deletable.
 */

/** Largest `meta` / `extra_metadata` of one message: its JSON text, in UTF-8 bytes. */
export const MAX_META_BYTES = 8 * 1024;
/**
 * New messages one update may create. A stock client sends its whole offline backlog as one
 * update, so this is set above what a frame of the default 1 MiB can carry (about 17,000 of the
 * shortest messages): it bounds the validator's work per update when an operator raises
 * PARLEY_MAX_FRAME_BYTES, and never refuses a backlog that fits a default frame.
 */
export const MAX_NEW_MESSAGES_PER_UPDATE = 20_000;
/** Reactions one update may add or remove (an offline backlog of a person's reactions stays far below). */
export const MAX_REACTION_CHANGES_PER_UPDATE = 1_000;
/** Different reactions one person may have on one message. */
export const MAX_REACTIONS_PER_PERSON_PER_MESSAGE = 20;

const encoder = new TextEncoder();

/** Why `meta` is over the limit, or null. */
export function metaProblem(meta: Readonly<Record<string, unknown>>): string | null {
  const bytes = encoder.encode(JSON.stringify(meta)).byteLength;
  return bytes > MAX_META_BYTES ? `metadata of ${bytes} bytes is over the limit of ${MAX_META_BYTES}` : null;
}
