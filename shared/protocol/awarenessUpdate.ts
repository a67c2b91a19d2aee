import * as encoding from 'lib0/encoding';
import * as decoding from 'lib0/decoding';

/*
 * The body of an awareness frame (y-protocols/awareness):
 *
 *   awarenessUpdate := varUint(n) • n × ( varUint(clientID) • varUint(clock) • varString(JSON state) )
 *
 * A null state removes the client. Decoded into entries rather than applied blindly, so that a
 * server can drop echoes, check ownership, cap sizes and stamp the authenticated identity before
 * anything is relayed. States stay unparsed JSON text until an entry is known to matter: stock
 * y-websocket clients send back every state they receive, and parsing those echoes is wasted work.
 */

/** Largest awareness state the server accepts from a client for its own client id, as UTF-8 JSON bytes. */
export const MAX_AWARENESS_STATE_BYTES = 4096;

/** One entry of an awareness update, its state still the JSON text that was sent. */
export interface RawAwarenessEntry {
  readonly clientId: number;
  readonly clock: number;
  readonly json: string;
}

export interface AwarenessEntry {
  readonly clientId: number;
  readonly clock: number;
  /** null removes the client's state. */
  readonly state: Record<string, unknown> | null;
}

export function writeAwarenessUpdate(encoder: encoding.Encoder, entries: readonly AwarenessEntry[]): void {
  encoding.writeVarUint(encoder, entries.length);
  for (const { clientId, clock, state } of entries) {
    encoding.writeVarUint(encoder, clientId);
    encoding.writeVarUint(encoder, clock);
    encoding.writeVarString(encoder, JSON.stringify(state));
  }
}

/** Throws on truncated input; see decodeAwarenessUpdate. */
export function readAwarenessUpdate(decoder: decoding.Decoder): RawAwarenessEntry[] {
  const n = decoding.readVarUint(decoder);
  const entries: RawAwarenessEntry[] = [];
  for (let i = 0; i < n; i++) {
    const clientId = decoding.readVarUint(decoder);
    const clock = decoding.readVarUint(decoder);
    const json = decoding.readVarString(decoder);
    entries.push({ clientId, clock, json });
  }
  return entries;
}

export function encodeAwarenessUpdate(entries: readonly AwarenessEntry[]): Uint8Array {
  const encoder = encoding.createEncoder();
  writeAwarenessUpdate(encoder, entries);
  return encoding.toUint8Array(encoder);
}

/** The entries of an awareness update, or null when the bytes are not one (truncated, hostile). */
export function decodeAwarenessUpdate(bytes: Uint8Array): RawAwarenessEntry[] | null {
  try {
    return readAwarenessUpdate(decoding.createDecoder(bytes));
  } catch {
    return null;
  }
}
