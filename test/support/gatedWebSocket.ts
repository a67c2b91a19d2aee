import { WebSocket } from 'ws';
import type { WebSocketConstructor } from '../../client/sync/WebSocketLike.ts';

/**
 * The `ws` WebSocket for the SDK behind a gate: while it is shut, every new socket dials
 * `deadPort` (nothing listens there), so sync and the user feed cannot reach the server while the
 * REST API (fetch) still does. A test uploads files but keeps the message from syncing this way.
 * Shutting the gate closes nothing: shut it before the client opens its first socket.
 */
export function gatedWebSocket(deadPort: number): { readonly WebSocket: WebSocketConstructor; open(): void; shut(): void } {
  let open = false;
  class Gated extends WebSocket {
    constructor(url: string) {
      super(open ? url : url.replace(/^(wss?:\/\/[^/:]+):\d+/, `$1:${deadPort}`));
    }
  }
  return {
    WebSocket: Gated as unknown as WebSocketConstructor,
    open: () => {
      open = true;
    },
    shut: () => {
      open = false;
    },
  };
}
