import { z } from 'zod';
import { MAX_AWARENESS_STATE_BYTES } from '../../shared/protocol/awarenessUpdate.ts';

const StateSchema = z.record(z.string(), z.unknown()).nullable();

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

/**
 * The state with `user.id` and `user.name` replaced by the authenticated identity, so nobody
 * can appear as someone else. Other `user` fields (a colour, say) are kept.
 */
export function stampIdentity(state: Record<string, unknown>, user: { id: string; name: string }): Record<string, unknown> {
  const given = state.user;
  const extra = given !== null && typeof given === 'object' && !Array.isArray(given) ? (given as Record<string, unknown>) : {};
  return { ...state, user: { ...extra, id: user.id, name: user.name } };
}
