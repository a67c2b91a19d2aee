import * as encoding from 'lib0/encoding';
import * as decoding from 'lib0/decoding';
import { MessageType, SyncStep } from './messageTypes.ts';

/*
 * The frame codec of the sync endpoint: every binary WebSocket frame Parley or a stock
 * y-websocket peer sends, as paired write/read functions over lib0 encoders (the y-protocols
 * style), plus one discriminated union per direction. Pure: no I/O, no Yjs document, so server,
 * SDK, tests and third-party clients share it. Grammar (docs/protocol.md, "Frames"):
 *
 *   frame            := syncFrame | awarenessFrame | queryAwareness | ack | error
 *   syncFrame        := varUint(0) • ( syncStep1 | syncStep2 | update )
 *   syncStep1        := varUint(0) • varUint8Array(stateVector)
 *   syncStep2        := varUint(1) • varUint8Array(update)
 *   update           := varUint(2) • varUint8Array(update)
 *   awarenessFrame   := varUint(1) • varUint8Array(awarenessUpdate)
 *   queryAwareness   := varUint(3)
 *   ack              := varUint(100) • varUint8Array(stateVector)       server → client, ?parley=1 only
 *   error            := varUint(101) • varString(code) • varString(reason)  server → client, ?parley=1 only
 *   recent           := varUint(102) • varString(pageJson)               server → client, ?parley=1 only
 *
 * `update` is a Yjs V1 update, `stateVector` a Yjs encoded state vector, `awarenessUpdate` the
 * y-protocols awareness update (awarenessUpdate.ts), `pageJson` a segmented room's newest
 * messages as JSON (recentPage.ts, which parses it: the codec does not look inside).
 */

/** The three y-protocols sync messages; both sides send all three. */
export type SyncFrame =
  | { readonly type: 'syncStep1'; readonly stateVector: Uint8Array }
  | { readonly type: 'syncStep2'; readonly update: Uint8Array }
  | { readonly type: 'update'; readonly update: Uint8Array };
export interface AwarenessFrame {
  readonly type: 'awareness';
  readonly update: Uint8Array;
}
export interface QueryAwarenessFrame {
  readonly type: 'queryAwareness';
}
/** The server committed everything `stateVector` covers (Parley's acknowledgement). */
export interface AckFrame {
  readonly type: 'ack';
  readonly stateVector: Uint8Array;
}
/** Why the server is about to close, or refused something (a code of closeCodes.ts, updateRefusals.ts or errorCodes.ts). */
export interface ErrorFrame {
  readonly type: 'error';
  readonly code: string;
  readonly reason: string;
}

/** A segmented room's newest messages as JSON text (recentPage.ts parses it). */
export interface RecentFrame {
  readonly type: 'recent';
  readonly page: string;
}

/** What a client sends to the server. */
export type ClientFrame = SyncFrame | AwarenessFrame | QueryAwarenessFrame;
/** What the server sends to a client (ack, error and recent only to `?parley=1` clients). */
export type ServerFrame = SyncFrame | AwarenessFrame | AckFrame | ErrorFrame | RecentFrame;
export type Frame = ClientFrame | ServerFrame;

/** A decoded frame, or why the bytes are not one (truncated, a lying length, an unknown type). */
export type Decoded<F> = { readonly ok: true; readonly frame: F } | { readonly ok: false; readonly reason: string };

// Paired writers and readers. A reader runs after the message type was read; it throws on
// truncated input, which the decode functions below turn into a value.

export function writeSyncStep1(encoder: encoding.Encoder, stateVector: Uint8Array): void {
  encoding.writeVarUint(encoder, MessageType.Sync);
  encoding.writeVarUint(encoder, SyncStep.Step1);
  encoding.writeVarUint8Array(encoder, stateVector);
}

export function writeSyncStep2(encoder: encoding.Encoder, update: Uint8Array): void {
  encoding.writeVarUint(encoder, MessageType.Sync);
  encoding.writeVarUint(encoder, SyncStep.Step2);
  encoding.writeVarUint8Array(encoder, update);
}

export function writeUpdate(encoder: encoding.Encoder, update: Uint8Array): void {
  encoding.writeVarUint(encoder, MessageType.Sync);
  encoding.writeVarUint(encoder, SyncStep.Update);
  encoding.writeVarUint8Array(encoder, update);
}

export function readSync(decoder: decoding.Decoder): SyncFrame | string {
  const step = decoding.readVarUint(decoder);
  const payload = decoding.readVarUint8Array(decoder);
  switch (step) {
    case SyncStep.Step1:
      return { type: 'syncStep1', stateVector: payload };
    case SyncStep.Step2:
      return { type: 'syncStep2', update: payload };
    case SyncStep.Update:
      return { type: 'update', update: payload };
    default:
      return `unknown sync message type ${step}`;
  }
}

export function writeAwareness(encoder: encoding.Encoder, update: Uint8Array): void {
  encoding.writeVarUint(encoder, MessageType.Awareness);
  encoding.writeVarUint8Array(encoder, update);
}

export function readAwareness(decoder: decoding.Decoder): AwarenessFrame {
  return { type: 'awareness', update: decoding.readVarUint8Array(decoder) };
}

export function writeQueryAwareness(encoder: encoding.Encoder): void {
  encoding.writeVarUint(encoder, MessageType.QueryAwareness);
}

export function writeAck(encoder: encoding.Encoder, stateVector: Uint8Array): void {
  encoding.writeVarUint(encoder, MessageType.Ack);
  encoding.writeVarUint8Array(encoder, stateVector);
}

export function readAck(decoder: decoding.Decoder): AckFrame {
  return { type: 'ack', stateVector: decoding.readVarUint8Array(decoder) };
}

export function writeError(encoder: encoding.Encoder, code: string, reason: string): void {
  encoding.writeVarUint(encoder, MessageType.Error);
  encoding.writeVarString(encoder, code);
  encoding.writeVarString(encoder, reason);
}

export function readError(decoder: decoding.Decoder): ErrorFrame {
  const code = decoding.readVarString(decoder);
  const reason = decoding.readVarString(decoder);
  return { type: 'error', code, reason };
}

export function writeRecent(encoder: encoding.Encoder, page: string): void {
  encoding.writeVarUint(encoder, MessageType.Recent);
  encoding.writeVarString(encoder, page);
}

export function readRecent(decoder: decoding.Decoder): RecentFrame {
  return { type: 'recent', page: decoding.readVarString(decoder) };
}

/** Writes any frame. */
export function writeFrame(encoder: encoding.Encoder, frame: Frame): void {
  switch (frame.type) {
    case 'syncStep1':
      return writeSyncStep1(encoder, frame.stateVector);
    case 'syncStep2':
      return writeSyncStep2(encoder, frame.update);
    case 'update':
      return writeUpdate(encoder, frame.update);
    case 'awareness':
      return writeAwareness(encoder, frame.update);
    case 'queryAwareness':
      return writeQueryAwareness(encoder);
    case 'ack':
      return writeAck(encoder, frame.stateVector);
    case 'error':
      return writeError(encoder, frame.code, frame.reason);
    case 'recent':
      return writeRecent(encoder, frame.page);
    default: {
      const unknown: never = frame;
      throw new Error(`unknown frame ${JSON.stringify(unknown)}`);
    }
  }
}

/** The bytes of one frame. */
export function encodeFrame(frame: Frame): Uint8Array {
  const encoder = encoding.createEncoder();
  writeFrame(encoder, frame);
  return encoding.toUint8Array(encoder);
}

/** The message type of a frame (its first varUint), or null for an empty or truncated frame. */
export function frameMessageType(bytes: Uint8Array): number | null {
  return attempt(() => decoding.readVarUint(decoding.createDecoder(bytes)));
}

/**
 * A frame from a client, as the server reads it. Never throws: hostile input (truncated varints,
 * lengths past the end, unknown types) comes back as `{ ok: false, reason }`. Payloads are views
 * into `bytes`, not copies.
 */
export function decodeClientFrame(bytes: Uint8Array): Decoded<ClientFrame> {
  return decodeFrame<ClientFrame>(bytes, (type, decoder) => {
    switch (type) {
      case MessageType.Awareness:
        return orMalformed(() => readAwareness(decoder), 'malformed awareness message');
      case MessageType.QueryAwareness:
        return { ok: true, frame: { type: 'queryAwareness' } };
      default:
        return malformed(`unknown message type ${type}`);
    }
  });
}

/**
 * A frame from the server, as a client reads it. Message types a client does not know (a
 * y-websocket auth message, a later extension) come back as `{ ok: true, frame: null }`:
 * clients ignore them, as stock y-websocket clients do.
 */
export function decodeServerFrame(bytes: Uint8Array): Decoded<ServerFrame | null> {
  return decodeFrame<ServerFrame | null>(bytes, (type, decoder) => {
    switch (type) {
      case MessageType.Awareness:
        return orMalformed(() => readAwareness(decoder), 'malformed awareness message');
      case MessageType.Ack:
        return orMalformed(() => readAck(decoder), 'malformed ack');
      case MessageType.Error:
        return orMalformed(() => readError(decoder), 'malformed error message');
      case MessageType.Recent:
        return orMalformed(() => readRecent(decoder), 'malformed recent page');
      default:
        return { ok: true, frame: null };
    }
  });
}

/** Reads the message type and a sync frame, which both directions share; `rest` reads the other types. */
function decodeFrame<F>(bytes: Uint8Array, rest: (type: number, decoder: decoding.Decoder) => Decoded<F>): Decoded<F | SyncFrame> {
  const decoder = decoding.createDecoder(bytes);
  const type = attempt(() => decoding.readVarUint(decoder));
  if (type === null) return malformed('malformed frame');
  if (type === MessageType.Sync) return syncFrame(decoder);
  return rest(type, decoder);
}

function syncFrame(decoder: decoding.Decoder): Decoded<SyncFrame> {
  const frame = attempt(() => readSync(decoder));
  if (frame === null) return malformed('malformed sync message');
  return typeof frame === 'string' ? malformed(frame) : { ok: true, frame };
}

function orMalformed<F>(read: () => F, reason: string): Decoded<F> {
  const frame = attempt(read);
  return frame === null ? malformed(reason) : { ok: true, frame };
}

const malformed = (reason: string): { ok: false; reason: string } => ({ ok: false, reason });

/** The value a lib0 read returns, or null when the bytes run out or a length lies. */
function attempt<T>(read: () => T): T | null {
  try {
    return read();
  } catch {
    return null;
  }
}
