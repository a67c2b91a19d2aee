import type * as Y from 'yjs';
import * as awarenessProtocol from 'y-protocols/awareness';
import type { Logger } from '../log.ts';
import type { ClientOwners } from '../validation/ClientOwners.ts';
import { encodeFrame } from '../../shared/protocol/frames.ts';
import { decodeAwarenessUpdate, encodeAwarenessUpdate, type AwarenessEntry, type RawAwarenessEntry } from '../../shared/protocol/awarenessUpdate.ts';
import { parseAwarenessState, stampIdentity } from './awarenessEntries.ts';
import type { RoomPeer } from './RoomPeer.ts';
import { SERVER_ORIGIN } from './origins.ts';

/** Awareness changes are relayed together once per window: typing and presence may lag by this much. */
const AWARENESS_BATCH_MS = 50;

/**
 * Awareness bounds (docs/protocol.md, "Awareness"): a y-websocket provider uses one client id per
 * document, and takes a new one only when it restarts, so these leave room for reconnects and
 * several devices while one connection can no longer fill the room's awareness (one connection
 * once registered 1.2 million ids: +521 MiB, and a 25.8 MB state for every joiner).
 */
export const AWARENESS_LIMITS = {
  /** Client ids one connection may hold states for. */
  idsPerConnection: 4,
  /** Client ids one user may hold states for in one room, over all their connections. */
  idsPerUser: 16,
  /** Bytes of state JSON the room holds over every client id (each state is capped at 4 KiB too). */
  roomBytes: 1024 * 1024,
} as const;

const awarenessFrame = (update: Uint8Array): Uint8Array => encodeFrame({ type: 'awareness', update });

/**
 * A room's awareness (presence and typing, never stored) and the rules for it: every entry a
 * peer sends is judged (its own, an echo, or a spoof of someone else's), stamped with the
 * authenticated identity, capped in size; entries the server sets for command connections cannot
 * be overwritten by any socket; changes go out to every peer in one frame per 50 ms window.
 */
export class RoomAwareness {
  readonly awareness: awarenessProtocol.Awareness;
  readonly #roomId: string;
  readonly #doc: Y.Doc;
  readonly #owners: ClientOwners;
  readonly #logger: Logger;
  readonly #peers: () => Iterable<RoomPeer>;
  /** Client ids the server sets on behalf of command connections; no socket may set them. */
  readonly #serverOwned = new Set<number>();
  /** Which peer set each remote client id, and the ids each peer holds (removed when it leaves). */
  readonly #ownerOf = new Map<number, RoomPeer>();
  readonly #heldBy = new Map<RoomPeer, Set<number>>();
  /** Bytes of each remote state's JSON, and their sum (AWARENESS_LIMITS.roomBytes). */
  readonly #stateBytes = new Map<number, number>();
  #totalBytes = 0;
  /** Client ids changed since the last relay (see #flush). */
  readonly #batch = new Set<number>();
  #timer: NodeJS.Timeout | null = null;
  #closed = false;

  constructor(opts: { roomId: string; doc: Y.Doc; owners: ClientOwners; logger: Logger; peers: () => Iterable<RoomPeer> }) {
    this.#roomId = opts.roomId;
    this.#doc = opts.doc;
    this.#owners = opts.owners;
    this.#logger = opts.logger;
    this.#peers = opts.peers;
    this.awareness = new awarenessProtocol.Awareness(opts.doc);
    // The server's own entry carries room presence (set by PresencePublisher), never null.
    this.awareness.setLocalState({});
    this.awareness.on('update', this.#onUpdate);
  }

  /** Every current state in one frame, or null when there is none (what a joiner gets). */
  snapshotFrame(): Uint8Array | null {
    const clients = [...this.awareness.getStates().keys()];
    return clients.length > 0 ? awarenessFrame(awarenessProtocol.encodeAwarenessUpdate(this.awareness, clients)) : null;
  }

  /** Every current state, for a query-awareness frame (sent even when empty, as y-websocket does). */
  queryFrame(): Uint8Array {
    return awarenessFrame(awarenessProtocol.encodeAwarenessUpdate(this.awareness, [...this.awareness.getStates().keys()]));
  }

  /** Applies what a peer sent, entry by entry; a malformed update closes that peer. */
  receive(peer: RoomPeer, update: Uint8Array): void {
    const entries = decodeAwarenessUpdate(update);
    if (!entries) {
      peer.close('ProtocolError', 'malformed awareness update');
      return;
    }
    const accepted: AwarenessEntry[] = [];
    const refused: string[] = [];
    for (const entry of entries) {
      const verdict = this.#judge(peer, entry);
      if (verdict === 'echo') continue;
      if (verdict === 'spoof') {
        this.#logger.warn({ room: this.#roomId, user: peer.user.id, clientId: entry.clientId }, 'awareness spoof refused');
        continue;
      }
      // A new client id past the connection's or the user's bound is refused before its JSON is
      // read: a frame of thousands of ids costs a comparison each, not a parse each.
      const full = entry.json === 'null' ? null : this.#idRefusal(peer, entry.clientId);
      if (full) {
        refused.push(full);
        continue;
      }
      const parsed = parseAwarenessState(entry.json);
      if (!parsed.ok) {
        refused.push(parsed.reason);
        continue;
      }
      const state = parsed.state && stampIdentity(parsed.state, peer.user);
      if (state !== null) {
        // Counted as relayed: with the stamped identity.
        const bytes = JSON.stringify(state).length;
        // The id bounds were checked before the parse (nothing was held since).
        const over = this.#overBytes(entry.clientId, bytes);
        if (over) {
          refused.push(over);
          continue;
        }
        this.#hold(peer, entry.clientId, bytes);
      }
      accepted.push({ clientId: entry.clientId, clock: entry.clock, state });
    }
    if (refused.length > 0) {
      // One error per frame, whatever it carried: a flood of entries is not answered by a flood.
      const reason = refused.length === 1 ? (refused[0] ?? '') : `${refused[0] ?? ''} (${refused.length} entries refused)`;
      this.#logger.info({ room: this.#roomId, user: peer.user.id, reason }, 'awareness state refused');
      if (peer.parley) peer.send(encodeFrame({ type: 'error', code: 'awareness_refused', reason }));
    }
    if (accepted.length === 0) return;
    awarenessProtocol.applyAwarenessUpdate(this.awareness, encodeAwarenessUpdate(accepted), peer);
  }

  /** Why `peer` may not hold a state for `clientId` (a new id past a bound), or null. */
  #idRefusal(peer: RoomPeer, clientId: number): string | null {
    if (this.#ownerOf.get(clientId) === peer) return null;
    if ((this.#heldBy.get(peer)?.size ?? 0) >= AWARENESS_LIMITS.idsPerConnection) {
      return `a connection may hold awareness states for at most ${AWARENESS_LIMITS.idsPerConnection} client ids`;
    }
    let ofUser = 0;
    for (const [holder, ids] of this.#heldBy) if (holder.user.id === peer.user.id) ofUser += ids.size;
    return ofUser >= AWARENESS_LIMITS.idsPerUser ? `a user may hold awareness states for at most ${AWARENESS_LIMITS.idsPerUser} client ids in a room` : null;
  }

  /** Why holding a state of `bytes` for `clientId` would pass the room's bytes bound, or null. */
  #overBytes(clientId: number, bytes: number): string | null {
    const total = this.#totalBytes - (this.#stateBytes.get(clientId) ?? 0) + bytes;
    if (total > AWARENESS_LIMITS.roomBytes) return `the room's awareness states would pass ${AWARENESS_LIMITS.roomBytes} bytes`;
    return null;
  }

  #hold(peer: RoomPeer, clientId: number, bytes: number): void {
    const previous = this.#ownerOf.get(clientId);
    if (previous && previous !== peer) this.#heldBy.get(previous)?.delete(clientId);
    this.#ownerOf.set(clientId, peer);
    let held = this.#heldBy.get(peer);
    if (!held) this.#heldBy.set(peer, (held = new Set()));
    held.add(clientId);
    this.#setBytes(clientId, bytes);
  }

  #setBytes(clientId: number, bytes: number): void {
    this.#totalBytes += bytes - (this.#stateBytes.get(clientId) ?? 0);
    if (bytes > 0) this.#stateBytes.set(clientId, bytes);
    else this.#stateBytes.delete(clientId);
  }

  /** Removes the states a leaving peer set. */
  leave(peer: RoomPeer): void {
    const held = this.#heldBy.get(peer);
    this.#heldBy.delete(peer);
    if (!held) return;
    const owned = [...held].filter((id) => this.#ownerOf.get(id) === peer);
    for (const id of owned) {
      this.#ownerOf.delete(id);
      this.#setBytes(id, 0);
    }
    if (owned.length > 0) awarenessProtocol.removeAwarenessStates(this.awareness, owned, null);
  }

  /**
   * Sets (or, with null, removes) a state for a client id the server controls on behalf of a
   * command connection, relayed to every peer like any other state.
   */
  setServerOwned(clientId: number, state: Record<string, unknown> | null): void {
    if (this.#closed) return;
    if (state === null) {
      if (!this.#serverOwned.delete(clientId)) return;
      awarenessProtocol.removeAwarenessStates(this.awareness, [clientId], SERVER_ORIGIN);
      return;
    }
    this.#serverOwned.add(clientId);
    const clock = (this.awareness.meta.get(clientId)?.clock ?? 0) + 1;
    awarenessProtocol.applyAwarenessUpdate(this.awareness, encodeAwarenessUpdate([{ clientId, clock, state }]), SERVER_ORIGIN);
  }

  /** A client id for setServerOwned that no awareness entry or document writer uses here. */
  freshClientId(): number {
    let id: number;
    do id = Math.floor(Math.random() * 0x1_0000_0000);
    while (this.awareness.meta.has(id) || this.#owners.ownerOf(id) !== undefined || id === this.#doc.clientID);
    return id;
  }

  /** Sets the server's own state (room presence), relayed to every peer. */
  setServerState(state: Record<string, unknown>): void {
    this.awareness.setLocalState(state);
  }

  destroy(): void {
    this.#closed = true;
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = null;
    this.#batch.clear();
    this.awareness.off('update', this.#onUpdate);
    this.awareness.destroy();
  }

  /**
   * `echo`: nothing newer than the server holds, which is normal (a stock y-websocket client
   * sends back every awareness change it receives, the server's own entry included), dropped
   * silently. `spoof`: a newer state for a client id another user's connection controls, or that
   * writes to the document as another user, dropped and logged. `own`: the peer's own state, or
   * a client id nobody holds, or a reconnect of the same user taking its client id over.
   */
  #judge(peer: RoomPeer, entry: RawAwarenessEntry): 'own' | 'echo' | 'spoof' {
    if (entry.clientId === this.#doc.clientID) return 'echo';
    const known = this.awareness.meta.get(entry.clientId)?.clock;
    const stale = known !== undefined && entry.clock <= known;
    if (this.#serverOwned.has(entry.clientId)) return stale ? 'echo' : 'spoof';
    const owner = this.#ownerOf.get(entry.clientId);
    // A client id that writes to the document under another user's name is theirs in awareness too.
    const writer = this.#owners.ownerOf(entry.clientId);
    const othersId = (owner !== undefined && owner.user.id !== peer.user.id) || (writer !== undefined && writer !== peer.user.id);
    if (owner === peer && !othersId) return 'own';
    if (stale) return 'echo';
    return othersId ? 'spoof' : 'own';
  }

  readonly #onUpdate = ({ added, updated, removed }: { added: number[]; updated: number[]; removed: number[] }): void => {
    // A state set to null, or timed out: it no longer counts against its holder or the room.
    for (const id of removed) {
      const holder = this.#ownerOf.get(id);
      if (holder) this.#heldBy.get(holder)?.delete(id);
      this.#ownerOf.delete(id);
      this.#setBytes(id, 0);
    }
    const changed = added.concat(updated, removed);
    if (changed.length === 0 || !this.#hasPeers()) return;
    for (const id of changed) this.#batch.add(id);
    if (this.#timer) return;
    this.#timer = setTimeout(this.#flush, AWARENESS_BATCH_MS);
    this.#timer.unref();
  };

  /**
   * Relays every entry that changed in the last window as one frame to every peer. One frame per
   * change would be N frames per change: 500 clients at 1 Hz make 250,000 frames a second, which
   * costs more than all the rest. The sender gets its own entry back too, which awareness ignores
   * (same clock), and which spares one encoding per recipient.
   */
  readonly #flush = (): void => {
    this.#timer = null;
    const changed = [...this.#batch];
    this.#batch.clear();
    if (this.#closed || changed.length === 0 || !this.#hasPeers()) return;
    const frame = awarenessFrame(awarenessProtocol.encodeAwarenessUpdate(this.awareness, changed));
    for (const peer of this.#peers()) peer.send(frame);
  };

  #hasPeers(): boolean {
    return !this.#peers()[Symbol.iterator]().next().done;
  }
}
