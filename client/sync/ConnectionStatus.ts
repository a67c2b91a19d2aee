import type { ConnectionState, RoomConnection } from './RoomConnection.ts';

/**
 * The client's one connection state, from every room connection it holds and whether the last
 * REST call or background sync reached the server: online when any connection is, connecting
 * when any tries, online with no connection at all when the server was reachable, else offline.
 * A connection stopped by the server's answer (no access to a room) proves the server reachable
 * and says nothing about the network: it counts as online. A refusal never stops a connection.
 */
export class ConnectionStatus {
  readonly #connections = new Set<RoomConnection>();
  readonly #onChange: (state: ConnectionState) => void;
  #reachable = false;
  #state: ConnectionState = 'offline';
  #closed = false;

  constructor(onChange: (state: ConnectionState) => void) {
    this.#onChange = onChange;
  }

  get state(): ConnectionState {
    return this.#state;
  }

  /** Counts a connection in until it is untracked (the returned function) or closed. */
  track(connection: RoomConnection): () => void {
    this.#connections.add(connection);
    const off = connection.on('state', () => this.recompute());
    this.recompute();
    return () => {
      off();
      this.#connections.delete(connection);
      this.recompute();
    };
  }

  /** What the last network attempt outside a room connection (REST, a background sync) found. */
  setReachable(reachable: boolean): void {
    this.#reachable = reachable;
    this.recompute();
  }

  recompute(): void {
    if (this.#closed) return;
    const states = [...this.#connections].map((c) => (c.stopped ? 'online' : c.state));
    const next: ConnectionState = states.includes('online')
      ? 'online'
      : states.includes('connecting')
        ? 'connecting'
        : states.length === 0 && this.#reachable
          ? 'online'
          : 'offline';
    if (next === this.#state) return;
    this.#state = next;
    this.#onChange(next);
  }

  close(): void {
    this.#closed = true;
    this.#connections.clear();
  }
}
