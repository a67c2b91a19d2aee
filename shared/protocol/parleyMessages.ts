import * as encoding from 'lib0/encoding';
import * as decoding from 'lib0/decoding';
import { MessageType } from './messageTypes.ts';

/*
 * Parley's additions to the y-websocket protocol. Grammar (lib0 encoding):
 *
 *   ack(sv)              := varUint(100) • varUint8Array(sv)
 *   error(code, reason)  := varUint(100 + 1) • varString(code) • varString(reason)
 *
 * `sv` is the server's Yjs state vector (Y.encodeStateVector) right after it committed to
 * SQLite every update this connection sent so far: everything it covers is durable.
 * `code` is one of the names in shared/errors/closeCodes.ts or errorCodes.ts.
 */

export function writeAck(encoder: encoding.Encoder, stateVector: Uint8Array): void {
  encoding.writeVarUint(encoder, MessageType.Ack);
  encoding.writeVarUint8Array(encoder, stateVector);
}

/** Reads an ack body (after its message type). */
export function readAck(decoder: decoding.Decoder): Uint8Array {
  return decoding.readVarUint8Array(decoder);
}

export function writeError(encoder: encoding.Encoder, code: string, reason: string): void {
  encoding.writeVarUint(encoder, MessageType.Error);
  encoding.writeVarString(encoder, code);
  encoding.writeVarString(encoder, reason);
}

/** Reads an error body (after its message type). */
export function readError(decoder: decoding.Decoder): { code: string; reason: string } {
  const code = decoding.readVarString(decoder);
  const reason = decoding.readVarString(decoder);
  return { code, reason };
}

export const encodeAck = (stateVector: Uint8Array): Uint8Array => {
  const encoder = encoding.createEncoder();
  writeAck(encoder, stateVector);
  return encoding.toUint8Array(encoder);
};

export const encodeError = (code: string, reason: string): Uint8Array => {
  const encoder = encoding.createEncoder();
  writeError(encoder, code, reason);
  return encoding.toUint8Array(encoder);
};
