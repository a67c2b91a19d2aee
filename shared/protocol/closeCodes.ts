/**
 * WebSocket close codes the server uses. 1000-1015 are RFC 6455; 4000-4999 are Parley's own,
 * following y-websocket's convention: 4400-4499 mirror HTTP 4xx and mean "reconnecting cannot
 * fix this" (a stock WebsocketProvider stops retrying; a Parley client renews its token after
 * 4401), 4500-4599 mean "try again later" (the provider backs off and reconnects).
 */
export const CloseCode = {
  /** Normal closure: the server is shutting down or the room was closed cleanly. */
  Normal: 1000,
  /** The server is going away (SIGTERM); reconnect later. */
  GoingAway: 1001,
  /** A frame the protocol cannot parse: truncated varints, unknown message type, text frame on /sync. */
  ProtocolError: 1002,
  /** A frame over the size limit (RFC 6455 "message too big"). */
  MessageTooBig: 1009,
  /** An unexpected server fault while handling this connection; other connections are unaffected. */
  InternalError: 1011,
  /** Token missing, malformed, badly signed or expired (renew it, then reconnect). */
  Unauthorized: 4401,
  /** Not an active member of the room, removed from it, or the room is inactive. */
  Forbidden: 4403,
  /** No such room. */
  RoomNotFound: 4404,
  /** An update the server refused (see the error message sent just before). */
  UpdateRefused: 4422,
  /**
   * The room document reached its size limit. A 45xx code ("try again later"), not 4413: the
   * members can make room (deletions are still accepted and compaction re-measures the room), so
   * a stock provider must keep reconnecting rather than stop for good.
   */
  DocumentTooLarge: 4513,
  /** Too many updates per second on this connection: back off, then reconnect. */
  RateLimited: 4529,
  /** Too many open connections for this user: close another, then reconnect. */
  TooManyConnections: 4530,
  /**
   * The connection read too slowly: more than PARLEY_MAX_BUFFERED_BYTES waited in its send buffer
   * when the server had more to send. A 45xx code rather than 1013 so that a Parley client gets
   * the error message first; reconnecting (with backoff) resyncs it from scratch.
   */
  SlowConsumer: 4531,
  /** The server could not commit to storage (disk full, I/O error): reconnect later. */
  StorageUnavailable: 4503,
  /**
   * The node that owns the document moved it or cannot be reached (it stopped, it died, it lost its
   * lease: docs/scale-out.md): reopen it, and it is routed to its owner afresh.
   */
  OwnerUnavailable: 4504,
} as const;

export type CloseCodeName = keyof typeof CloseCode;
export type CloseCodeValue = (typeof CloseCode)[CloseCodeName];

/** A close code's name, for a code that came over the wire (another node's); InternalError for one not in the table. */
export function closeCodeName(code: number): CloseCodeName {
  const entry = Object.entries(CloseCode).find(([, value]) => value === code);
  return entry ? (entry[0] as CloseCodeName) : 'InternalError';
}
