import { WebSocket } from 'ws';
import { encodeFrame } from '../../shared/protocol/frames.ts';
import { CloseCode, type CloseCodeName } from '../../shared/protocol/closeCodes.ts';

/** Close reasons are at most 123 bytes (RFC 6455); longer ones are cut at a character boundary. */
function clampReason(reason: string): string {
  let out = reason;
  while (Buffer.byteLength(out) > 123) out = out.slice(0, -1);
  return out;
}

/**
 * Closes a socket with a named code. For error codes, a Parley sync client (`withError`) also
 * gets the reason first as an error frame, which it can read even where the close reason is lost.
 */
export function closeSocket(ws: WebSocket, name: CloseCodeName, reason: string, withError: boolean, errorCode: string = name): void {
  const code = CloseCode[name];
  if (ws.readyState !== WebSocket.OPEN && ws.readyState !== WebSocket.CONNECTING) return;
  if (withError && ws.readyState === WebSocket.OPEN && (code >= 4000 || code === CloseCode.ProtocolError)) {
    ws.send(encodeFrame({ type: 'error', code: errorCode, reason }));
  }
  ws.close(code, clampReason(errorCode === name ? reason : `${errorCode}: ${reason}`));
}
