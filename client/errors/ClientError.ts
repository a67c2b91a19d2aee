/**
 * Every failure the SDK reports to the app, as one named list. Expected failures (bad input, a
 * refused update, storage full) are ClientErrors with one of these codes; anything else is a bug.
 */
export const CLIENT_ERROR_CODES = {
  /** The input does not satisfy the room document rules (empty reaction, content too long...). */
  invalid_payload: 'the input is not valid',
  /** No such message in the room (or not yet synced to this device). */
  not_found: 'no such message',
  /** The user may not do this (edit someone else's message, delete without being an admin). */
  forbidden: 'not allowed',
  /** The message is deleted. */
  deleted: 'the message is deleted',
  /** A message with this id exists with other content. */
  conflict: 'conflicting message id',
  /** The browser refused to store more (QuotaExceededError): nothing more can be saved locally. */
  storage_full: 'local storage is full',
  /** Any other local storage failure (IndexedDB closed, blocked, corrupt rows). */
  storage_failed: 'local storage failed',
  /** A stored row or a network message did not parse: it is skipped or the connection is dropped. */
  invalid_data: 'invalid data',
  /** The server refused an update; the affected messages are `rejected`. */
  update_refused: 'the server refused an update',
  /** The server refused the connection for good (not a member, room gone). */
  access_denied: 'no access to the room',
  /** The REST API answered with an error. */
  api_error: 'the server answered with an error',
  /** The network or the server could not be reached. */
  network: 'the server could not be reached',
  /** The token is missing or unusable. */
  unauthorized: 'not signed in',
  /** The client or room was closed. */
  closed: 'closed',
} as const;

export type ClientErrorCode = keyof typeof CLIENT_ERROR_CODES;

export class ClientError extends Error {
  readonly code: ClientErrorCode;
  override readonly cause: unknown;
  constructor(code: ClientErrorCode, message: string = CLIENT_ERROR_CODES[code], cause?: unknown) {
    super(message);
    this.name = 'ClientError';
    this.code = code;
    this.cause = cause;
  }
}

/** Whether an IndexedDB/Dexie failure is the browser refusing to store more. */
export function isQuotaError(error: unknown): boolean {
  if (!(error instanceof Error)) return false;
  // Dexie wraps DOMExceptions but keeps their name; the inner error is kept as `inner`.
  const inner = (error as Error & { inner?: unknown }).inner;
  return error.name === 'QuotaExceededError' || (inner instanceof Error && inner.name === 'QuotaExceededError');
}

/** A storage failure as the ClientError the app sees. */
export function storageError(error: unknown, what: string): ClientError {
  if (error instanceof ClientError) return error;
  return isQuotaError(error)
    ? new ClientError('storage_full', `${what}: local storage is full`, error)
    : new ClientError('storage_failed', `${what}: ${error instanceof Error ? error.message : String(error)}`, error);
}
