import * as encoding from 'lib0/encoding';
import * as decoding from 'lib0/decoding';
import { z } from 'zod';

/** Largest awareness state accepted from a client, as encoded JSON (bytes of UTF-8). */
export const MAX_AWARENESS_STATE_BYTES = 4096;
/** Most client states one awareness frame may carry (a client sends its own, one or two). */
export const MAX_AWARENESS_ENTRIES = 16;

const StateSchema = z.record(z.string(), z.unknown()).nullable();

export interface AwarenessEntry {
  clientId: number;
  clock: number;
  /** null removes the client's state. */
  state: Record<string, unknown> | null;
}

export type AwarenessParse = { ok: true; entries: AwarenessEntry[] } | { ok: false; reason: string };

/*
 * awarenessUpdate := varUint(n) • n × ( varUint(clientID) • varUint(clock) • varString(JSON state) )
 * (y-protocols/awareness). Parsed here rather than applied blindly so the server can check
 * ownership, cap sizes and stamp the authenticated identity before anything is relayed.
 */
export function decodeAwarenessEntries(bytes: Uint8Array): AwarenessParse {
  try {
    const decoder = decoding.createDecoder(bytes);
    const n = decoding.readVarUint(decoder);
    if (n > MAX_AWARENESS_ENTRIES) return { ok: false, reason: `awareness frame carries ${n} states (max ${MAX_AWARENESS_ENTRIES})` };
    const entries: AwarenessEntry[] = [];
    for (let i = 0; i < n; i++) {
      const clientId = decoding.readVarUint(decoder);
      const clock = decoding.readVarUint(decoder);
      const json = decoding.readVarString(decoder);
      if (Buffer.byteLength(json) > MAX_AWARENESS_STATE_BYTES) {
        return { ok: false, reason: `awareness state over ${MAX_AWARENESS_STATE_BYTES} bytes` };
      }
      const parsed = StateSchema.safeParse(JSON.parse(json));
      if (!parsed.success) return { ok: false, reason: 'awareness state must be a JSON object or null' };
      entries.push({ clientId, clock, state: parsed.data });
    }
    return { ok: true, entries };
  } catch {
    return { ok: false, reason: 'malformed awareness update' };
  }
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
