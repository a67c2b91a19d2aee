import * as encoding from 'lib0/encoding';
import * as decoding from 'lib0/decoding';
import { z } from 'zod';

/** Largest awareness state accepted from a client for its own client id, as UTF-8 JSON bytes. */
export const MAX_AWARENESS_STATE_BYTES = 4096;

const StateSchema = z.record(z.string(), z.unknown()).nullable();

/** One entry of an awareness update, its state still as the JSON text the client sent. */
export interface RawAwarenessEntry {
  clientId: number;
  clock: number;
  json: string;
}

export interface AwarenessEntry {
  clientId: number;
  clock: number;
  /** null removes the client's state. */
  state: Record<string, unknown> | null;
}

/*
 * awarenessUpdate := varUint(n) • n × ( varUint(clientID) • varUint(clock) • varString(JSON state) )
 * (y-protocols/awareness). Decoded here rather than applied blindly so the server can drop
 * echoes, check ownership, cap sizes and stamp the authenticated identity before anything is
 * relayed. States stay unparsed until an entry is known to matter: stock y-websocket clients
 * send back every state they receive, and parsing those echoes would be wasted work.
 */
export function decodeAwarenessFrame(bytes: Uint8Array): RawAwarenessEntry[] | null {
  try {
    const decoder = decoding.createDecoder(bytes);
    const n = decoding.readVarUint(decoder);
    const entries: RawAwarenessEntry[] = [];
    for (let i = 0; i < n; i++) {
      const clientId = decoding.readVarUint(decoder);
      const clock = decoding.readVarUint(decoder);
      const json = decoding.readVarString(decoder);
      entries.push({ clientId, clock, json });
    }
    return entries;
  } catch {
    return null;
  }
}

export type StateParse = { ok: true; state: Record<string, unknown> | null } | { ok: false; reason: string };

/** The state of an entry the connection owns: a JSON object (or null) of at most MAX_AWARENESS_STATE_BYTES. */
export function parseAwarenessState(json: string): StateParse {
  if (Buffer.byteLength(json) > MAX_AWARENESS_STATE_BYTES) return { ok: false, reason: `awareness state over ${MAX_AWARENESS_STATE_BYTES} bytes` };
  let value: unknown;
  try {
    value = JSON.parse(json);
  } catch {
    return { ok: false, reason: 'awareness state is not JSON' };
  }
  const parsed = StateSchema.safeParse(value);
  return parsed.success ? { ok: true, state: parsed.data } : { ok: false, reason: 'awareness state must be a JSON object or null' };
}

export function encodeAwarenessEntries(entries: readonly AwarenessEntry[]): Uint8Array {
  const encoder = encoding.createEncoder();
  encoding.writeVarUint(encoder, entries.length);
  for (const { clientId, clock, state } of entries) {
    encoding.writeVarUint(encoder, clientId);
    encoding.writeVarUint(encoder, clock);
    encoding.writeVarString(encoder, JSON.stringify(state));
  }
  return encoding.toUint8Array(encoder);
}

/**
 * The state with `user.id` and `user.name` replaced by the authenticated identity, so nobody
 * can appear as someone else. Other `user` fields (a colour, say) are kept.
 */
export function stampIdentity(state: Record<string, unknown>, user: { id: string; name: string }): Record<string, unknown> {
  const given = state.user;
  const extra = given !== null && typeof given === 'object' && !Array.isArray(given) ? (given as Record<string, unknown>) : {};
  return { ...state, user: { ...extra, id: user.id, name: user.name } };
}
