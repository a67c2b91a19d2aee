import type { ReactiveController, ReactiveControllerHost } from 'lit';
import type { ChatClient, RoomSummary } from '../../ChatClient.ts';
import type { UserPresence } from '../../../shared/models/userPresence.ts';

export interface DirectPeer {
  readonly userId: string;
  readonly name: string;
}

/** Presence in the room list changes slowly; a minute-old dot is fine, a socket per room is not. */
const PRESENCE_REFRESH_MS = 30_000;

/**
 * What the room list shows beyond the SDK's summaries: who is on the other side of each direct
 * chat (direct rooms have no name) and whether they are online.
 */
export class RoomListController implements ReactiveController {
  readonly #host: ReactiveControllerHost;
  peers: ReadonlyMap<string, DirectPeer> = new Map();
  presence: ReadonlyMap<string, UserPresence> = new Map();
  #offPresence: (() => void) | null = null;
  #client: ChatClient | null = null;
  #asked = new Set<string>();
  #timer: ReturnType<typeof setInterval> | null = null;

  constructor(host: ReactiveControllerHost) {
    this.#host = host;
    host.addController(this);
  }

  hostConnected(): void {
    this.#timer = setInterval(() => void this.#refreshPresence(), PRESENCE_REFRESH_MS);
  }

  hostDisconnected(): void {
    this.#offPresence?.();
    this.#offPresence = null;
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = null;
  }

  /** Called with every new room list. */
  update(client: ChatClient | null, rooms: readonly RoomSummary[]): void {
    if (client !== this.#client) {
      this.#client = client;
      this.#asked.clear();
      this.peers = new Map();
      this.presence = new Map();
      // Live presence of the people I share rooms with (the user feed), between the REST refreshes.
      this.#offPresence?.();
      this.#offPresence = client?.on('presence', (presence) => this.mergePresence(presence)) ?? null;
    }
    if (!client) return;
    const missing = rooms.filter((r) => r.room.type === 'direct' && !this.#asked.has(r.room.id));
    if (missing.length === 0) return;
    for (const r of missing) this.#asked.add(r.room.id);
    void Promise.all(
      missing.map(async (r) => {
        const members = await client.members(r.room.id).catch(() => []);
        const other = members.find((m) => m.user_id !== client.user.id);
        return other ? ([r.room.id, { userId: other.user_id, name: other.user?.name ?? 'Unknown' }] as const) : null;
      }),
    ).then((found) => {
      if (client !== this.#client) return;
      const peers = new Map(this.peers);
      for (const entry of found) if (entry) peers.set(entry[0], entry[1]);
      this.peers = peers;
      this.#host.requestUpdate();
      void this.#refreshPresence();
    });
  }

  /** Fresher presence from an open room's socket. */
  mergePresence(presence: readonly UserPresence[]): void {
    const next = new Map(this.presence);
    for (const p of presence) next.set(p.user_id, p);
    this.presence = next;
    this.#host.requestUpdate();
  }

  async #refreshPresence(): Promise<void> {
    const client = this.#client;
    const ids = [...new Set([...this.peers.values()].map((p) => p.userId))];
    if (!client || ids.length === 0) return;
    const presence = await client.presence(ids).catch(() => []);
    if (client !== this.#client) return;
    this.presence = new Map(presence.map((p) => [p.user_id, p]));
    this.#host.requestUpdate();
  }
}
