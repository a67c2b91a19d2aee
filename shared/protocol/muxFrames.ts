import * as encoding from 'lib0/encoding';
import * as decoding from 'lib0/decoding';

/*
 * The framing of the multiplexed sync endpoint (`/ws/sync`): one WebSocket per device carries
 * many documents, each on a channel the client opens. Every binary frame is a channel number and
 * a body (docs/protocol.md, "Multiplexed sync"):
 *
 *   muxFrame   := varUint(channel) • body
 *   body       := control            when channel = 0
 *               | frame              when channel ≥ 1: one sync-endpoint frame (frames.ts), with
 *                                    Parley's additions (ack, error) always on
 *   control    := varUint(0) • varUint(channel) • varString(document)        open     client → server
 *               | varUint(1) • varUint(channel)                              close    client → server
 *               | varUint(2) • varUint(channel) • varUint(code) • varString(errorCode) • varString(reason)
 *                                                                            closed   server → client
 *               | varUint(3) • varUint(channel) • varString(document) • varString(userId) • varString(userName)
 *                                                                            openAs   node → node
 *               | varUint(4) • varUint(channel) • varString(userId) • varString(userName)
 *                                                                            openCommandsAs   node → node
 *
 * A client numbers its channels 1, 2, 3, … and never reuses a number on the same socket, so that
 * no frame of a closed channel can be taken for a later one. `closed` ends a channel from the
 * server's side with a close code of closeCodes.ts and what a `?parley=1` client would have got
 * in its error frame; the socket stays open for the other channels.
 *
 * `openAs` exists only on the link between two Parley nodes (`/ws/internal`, docs/scale-out.md):
 * the node a client is connected to opens the channel on the document's owner as the user it
 * authenticated. A public socket that sends it is closed (ProtocolError).
 *
 * `openCommandsAs` too: the node holding a bot's command socket (`/ws/commands`) opens one such
 * channel per owner node its commands go to. Its bodies are not sync frames but the command
 * protocol's UTF-8 JSON text (docs/commands.md): commands node → owner, answers and room events
 * owner → node.
 */

/** The channel that carries control frames. */
export const CONTROL_CHANNEL = 0;
/** The largest channel number (a client opening more on one socket must reconnect). */
export const MAX_CHANNEL = 2 ** 31 - 1;
/** The longest document name, in characters. */
export const MAX_DOCUMENT_NAME = 200;

export const ControlKind = { Open: 0, Close: 1, Closed: 2, OpenAs: 3, OpenCommandsAs: 4 } as const;

export type ControlFrame =
  | { readonly type: 'open'; readonly channel: number; readonly document: string }
  | { readonly type: 'close'; readonly channel: number }
  | { readonly type: 'closed'; readonly channel: number; readonly code: number; readonly errorCode: string; readonly reason: string }
  | { readonly type: 'openAs'; readonly channel: number; readonly document: string; readonly userId: string; readonly userName: string }
  | { readonly type: 'openCommandsAs'; readonly channel: number; readonly userId: string; readonly userName: string };

/** A mux frame: control, or a document's frame on its channel (`body` is a view, not a copy). */
export type MuxFrame = { readonly channel: 0; readonly control: ControlFrame } | { readonly channel: number; readonly body: Uint8Array };

export type DecodedMux = { readonly ok: true; readonly frame: MuxFrame } | { readonly ok: false; readonly reason: string };

/** A document's frame (frames.ts encodeFrame) put on its channel. */
export function encodeOnChannel(channel: number, frame: Uint8Array): Uint8Array {
  const encoder = encoding.createEncoder();
  encoding.writeVarUint(encoder, channel);
  encoding.writeUint8Array(encoder, frame);
  return encoding.toUint8Array(encoder);
}

export function encodeControl(control: ControlFrame): Uint8Array {
  const encoder = encoding.createEncoder();
  encoding.writeVarUint(encoder, CONTROL_CHANNEL);
  switch (control.type) {
    case 'open':
    case 'openAs':
      encoding.writeVarUint(encoder, control.type === 'open' ? ControlKind.Open : ControlKind.OpenAs);
      encoding.writeVarUint(encoder, control.channel);
      encoding.writeVarString(encoder, control.document);
      if (control.type === 'openAs') writeUser(encoder, control);
      break;
    case 'openCommandsAs':
      encoding.writeVarUint(encoder, ControlKind.OpenCommandsAs);
      encoding.writeVarUint(encoder, control.channel);
      writeUser(encoder, control);
      break;
    case 'close':
      encoding.writeVarUint(encoder, ControlKind.Close);
      encoding.writeVarUint(encoder, control.channel);
      break;
    case 'closed':
      encoding.writeVarUint(encoder, ControlKind.Closed);
      encoding.writeVarUint(encoder, control.channel);
      encoding.writeVarUint(encoder, control.code);
      encoding.writeVarString(encoder, control.errorCode);
      encoding.writeVarString(encoder, control.reason);
      break;
  }
  return encoding.toUint8Array(encoder);
}

/**
 * Reads a mux frame. Never throws: truncated varints, channel numbers past MAX_CHANNEL, an
 * unknown control kind, a document name that is empty or too long come back as `{ ok: false }`.
 */
export function decodeMuxFrame(bytes: Uint8Array): DecodedMux {
  try {
    const decoder = decoding.createDecoder(bytes);
    const channel = decoding.readVarUint(decoder);
    if (channel > MAX_CHANNEL) return { ok: false, reason: `channel ${channel} is past ${MAX_CHANNEL}` };
    if (channel !== CONTROL_CHANNEL) return { ok: true, frame: { channel, body: bytes.subarray(decoder.pos) } };
    const control = readControl(decoder);
    if (typeof control === 'string') return { ok: false, reason: control };
    if (decoder.pos !== bytes.byteLength) return { ok: false, reason: 'trailing bytes after a control frame' };
    return { ok: true, frame: { channel: CONTROL_CHANNEL, control } };
  } catch {
    return { ok: false, reason: 'malformed mux frame' };
  }
}

/** openAs, openCommandsAs: the user the other node authenticated (docs/scale-out.md, "Routing"). */
function writeUser(encoder: encoding.Encoder, user: { readonly userId: string; readonly userName: string }): void {
  encoding.writeVarString(encoder, user.userId);
  encoding.writeVarString(encoder, user.userName);
}

/** The user of an openAs or openCommandsAs; checked (zod) by the node that serves the channel. */
function readUser(decoder: decoding.Decoder): { userId: string; userName: string } {
  return { userId: decoding.readVarString(decoder), userName: decoding.readVarString(decoder) };
}

function readControl(decoder: decoding.Decoder): ControlFrame | string {
  const kind = decoding.readVarUint(decoder);
  const channel = decoding.readVarUint(decoder);
  if (channel === CONTROL_CHANNEL || channel > MAX_CHANNEL) return `channel ${channel} cannot be opened or closed`;
  switch (kind) {
    case ControlKind.Open:
    case ControlKind.OpenAs: {
      const document = decoding.readVarString(decoder);
      if (document.length === 0 || document.length > MAX_DOCUMENT_NAME) return `a document name has 1 to ${MAX_DOCUMENT_NAME} characters`;
      if (kind === ControlKind.Open) return { type: 'open', channel, document };
      return { type: 'openAs', channel, document, ...readUser(decoder) };
    }
    case ControlKind.OpenCommandsAs:
      return { type: 'openCommandsAs', channel, ...readUser(decoder) };
    case ControlKind.Close:
      return { type: 'close', channel };
    case ControlKind.Closed: {
      const code = decoding.readVarUint(decoder);
      const errorCode = decoding.readVarString(decoder);
      const reason = decoding.readVarString(decoder);
      return { type: 'closed', channel, code, errorCode, reason };
    }
    default:
      return `unknown control kind ${kind}`;
  }
}
