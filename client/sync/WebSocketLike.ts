/** The part of the WHATWG WebSocket the SDK uses; the browser's and the `ws` package's both fit. */
export interface WebSocketLike {
  binaryType: string;
  readonly readyState: number;
  onopen: ((event: unknown) => void) | null;
  onmessage: ((event: { data: unknown }) => void) | null;
  onclose: ((event: { code: number; reason: string }) => void) | null;
  onerror: ((event: unknown) => void) | null;
  send(data: Uint8Array): void;
  close(code?: number, reason?: string): void;
  /**
   * A channel of a shared socket (SyncSocket): whether the shared socket heard from the server in
   * the last `ms`, on any channel. A quiet document on a live socket is not a dead socket.
   */
  heardWithin?(ms: number): boolean;
}

export type WebSocketConstructor = new (url: string) => WebSocketLike;

export const WS_OPEN = 1;

/**
 * The reason a connection closes its socket with when the server said nothing for too long. On
 * a channel of the shared socket it means the socket itself is dead: SyncSocket drops it.
 */
export const SILENT_CLOSE_REASON = 'server silent';

/** The platform's WebSocket, or an error telling Node users to pass one (`ws`). */
export function defaultWebSocket(): WebSocketConstructor {
  const ctor = (globalThis as { WebSocket?: WebSocketConstructor }).WebSocket;
  if (!ctor) throw new TypeError('no global WebSocket: pass the `ws` package as the WebSocket option');
  return ctor;
}
