import type { ClientMessage } from '../../room/ChatRoom.ts';

/**
 * Hands back the same object for a message whose shown fields did not change, so lit skips its
 * row: a room re-read per frame re-renders only the rows that changed.
 */
export class StableMessages {
  /** Per id: what was handed back, its shown key, and the object last given for it (the room hands back the same one until it changes). */
  readonly #cache = new Map<string, { key: string; message: ClientMessage; given: ClientMessage }>();

  stable(message: ClientMessage): ClientMessage {
    const cached = this.#cache.get(message.id);
    if (cached?.given === message) return cached.message;
    const key = shownKey(message);
    if (cached && cached.key === key) {
      cached.given = message;
      return cached.message;
    }
    this.#cache.set(message.id, { key, message, given: message });
    return message;
  }

  clear(): void {
    this.#cache.clear();
  }
}

/** What a row shows of a message, as one string (content changes move updated_at). */
function shownKey(m: ClientMessage): string {
  const shown = [m.state, m.reactions, m.pinned_at, m.reply_count, m.last_reply_at, m.thread_participants, m.quoted_message];
  return `${m.updated_at}|${m.is_deleted}|${m.sender_name}|${JSON.stringify(shown)}`;
}
