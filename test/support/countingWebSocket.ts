import { WebSocket } from 'ws';
import type { WebSocketConstructor } from '../../client/sync/WebSocketLike.ts';

/** The `ws` WebSocket for the SDK, counting the bytes of every message the client receives (tests and benchmarks of what a client downloads). */
export function countingWebSocket(): { WebSocket: WebSocketConstructor; received: () => number } {
  let received = 0;
  class Counting extends WebSocket {
    constructor(url: string) {
      super(url);
      this.addEventListener('message', (event) => {
        const data: unknown = event.data;
        received += typeof data === 'string' ? Buffer.byteLength(data) : Buffer.isBuffer(data) ? data.byteLength : data instanceof ArrayBuffer ? data.byteLength : 0;
      });
    }
  }
  return { WebSocket: Counting as unknown as WebSocketConstructor, received: () => received };
}
