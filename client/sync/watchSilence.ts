import type { WebSocketLike } from './WebSocketLike.ts';

/**
 * How long a channel may hear nothing before the server counts as silent: over two of the
 * server's 15 s renewals (awareness on room channels, keepalives on the feed), so one late frame
 * is not taken for a dead socket.
 */
export const DEFAULT_SILENCE_MS = 40_000;

/**
 * Watches a channel for silence: `onSilent` runs once nothing was heard on it for `silenceMs`,
 * unless its shared socket heard the server on another channel meanwhile (the socket is alive and
 * this channel only quiet: a sealed segment has nothing to say), when the watch starts over. A
 * half-open connection never closes by itself; this is how a device notices it. Returns the
 * watch's cancel; hearing something means cancelling and watching again.
 */
export function watchSilence(ws: WebSocketLike, silenceMs: number, onSilent: () => void): () => void {
  let timer: ReturnType<typeof setTimeout> | null = null;
  const arm = (): void => {
    timer = setTimeout(() => {
      timer = null;
      if (ws.heardWithin?.(silenceMs)) arm();
      else onSilent();
    }, silenceMs);
  };
  arm();
  return () => {
    if (timer !== null) clearTimeout(timer);
    timer = null;
  };
}
