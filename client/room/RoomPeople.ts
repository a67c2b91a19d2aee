import type * as awarenessProtocol from 'y-protocols/awareness';
import type { User } from '../../shared/models/user.ts';
import type { UserPresence } from '../../shared/models/userPresence.ts';
import { PeerStateSchema, ServerPresenceStateSchema } from '../../shared/protocol/awarenessStates.ts';

export interface TypingUser {
  readonly id: string;
  readonly name: string;
}

/**
 * Who is in an open room besides the messages: this device's awareness state (`{user, typing}`),
 * the others typing, and members' presence from the server's awareness entry (docs/protocol.md,
 * "Presence"), falling back to the presence cached on the device.
 */
export class RoomPeople {
  readonly #awareness: awarenessProtocol.Awareness;
  readonly #user: User;
  readonly #typingTimeoutMs: number;
  readonly #presence = new Map<string, UserPresence>();
  readonly #onPresence: (presence: UserPresence[]) => void;
  readonly #onTyping: (typing: TypingUser[]) => void;
  readonly #onChange = (): void => this.#changed();
  #typingTimer: ReturnType<typeof setTimeout> | null = null;

  constructor(deps: {
    awareness: awarenessProtocol.Awareness;
    user: User;
    cachedPresence: readonly UserPresence[];
    typingTimeoutMs: number;
    onPresence: (presence: UserPresence[]) => void;
    onTyping: (typing: TypingUser[]) => void;
  }) {
    this.#awareness = deps.awareness;
    this.#user = deps.user;
    this.#typingTimeoutMs = deps.typingTimeoutMs;
    this.#onPresence = deps.onPresence;
    this.#onTyping = deps.onTyping;
    for (const p of deps.cachedPresence) this.#presence.set(p.user_id, p);
    deps.awareness.setLocalState({ user: { id: deps.user.id, name: deps.user.name }, typing: false });
    deps.awareness.on('change', this.#onChange);
  }

  startTyping(): void {
    if (this.#typingTimer) clearTimeout(this.#typingTimer);
    else this.#awareness.setLocalStateField('typing', true);
    this.#typingTimer = setTimeout(() => this.stopTyping(true), this.#typingTimeoutMs);
  }

  /** Clears the typing timer; `announce`: and says so in the awareness state. */
  stopTyping(announce: boolean): void {
    if (this.#typingTimer) clearTimeout(this.#typingTimer);
    this.#typingTimer = null;
    if (announce) this.#awareness.setLocalStateField('typing', false);
  }

  typingUsers(): TypingUser[] {
    const users = new Map<string, TypingUser>();
    for (const [clientId, raw] of this.#awareness.getStates()) {
      if (clientId === this.#awareness.clientID) continue;
      const state = PeerStateSchema.safeParse(raw);
      if (state.success && state.data.typing === true && state.data.user.id !== this.#user.id) users.set(state.data.user.id, state.data.user);
    }
    return [...users.values()];
  }

  presence(): UserPresence[] {
    return [...this.#presence.values()];
  }

  close(): void {
    this.#awareness.off('change', this.#onChange);
  }

  #changed(): void {
    let presenceChanged = false;
    for (const raw of this.#awareness.getStates().values()) {
      const server = ServerPresenceStateSchema.safeParse(raw);
      if (!server.success) continue;
      for (const p of Object.values(server.data.presence)) this.#presence.set(p.user_id, p);
      presenceChanged = true;
    }
    if (presenceChanged) this.#onPresence(this.presence());
    this.#onTyping(this.typingUsers());
  }
}
