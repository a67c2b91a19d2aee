/** `connected`: first connection opened; `disconnected`: last one closed; `status`: custom status text changed. */
export type PresenceChange = {
  userId: string;
  online: boolean;
  at: number;
  cause: 'connected' | 'disconnected' | 'status';
  /**
   * Whether this node stores the user's last seen time for a `disconnected` (default true): not
   * when another node's last connection closed (that node stores it), yes when a node died.
   */
  storeLastSeen?: boolean;
};

/** Several nodes (server/cluster/ClusterPresence.ts): who is online on the other nodes, told of this node's transitions. */
export interface OtherNodes {
  onlineElsewhere(userId: string): boolean;
  /** This node's first connection or last disconnection of the user. */
  local(userId: string, online: boolean): void;
  /** This node's user changed their status text. */
  statusChanged(userId: string): void;
}
type Listener = (change: PresenceChange) => void;

/**
 * Who is online: a user is online while any device holds any connection (sync or command).
 * Counts live in memory; a restart starts everyone offline, which is the truth after a restart.
 * With several nodes (`joinCluster`), online on any node: this node's transitions are told to the
 * others, and theirs come in through `elsewhere`; listeners hear only cluster-wide transitions.
 */
export class PresenceTracker {
  readonly #connections = new Map<string, number>();
  readonly #listeners = new Set<Listener>();

  #others: OtherNodes | null = null;

  isOnline(userId: string): boolean {
    return (this.#connections.get(userId) ?? 0) > 0 || (this.#others?.onlineElsewhere(userId) ?? false);
  }

  /** This node is one of several: `others` hears its transitions and knows who is online elsewhere. */
  joinCluster(others: OtherNodes): void {
    this.#others = others;
  }

  /**
   * The user came online on another node, or went offline on every other one (as `joinCluster`'s
   * nodes say now): announced when it changes their state across the cluster. `nodeLost`: that
   * node died, so no node stores the user's last seen but the survivors.
   */
  elsewhere(userId: string, opts: { nodeLost?: boolean; now?: () => number } = {}): void {
    if ((this.#connections.get(userId) ?? 0) > 0) return;
    const onlineElsewhere = this.#others?.onlineElsewhere(userId) ?? false;
    const at = (opts.now ?? Date.now)();
    if (onlineElsewhere) this.#emit({ userId, online: true, at, cause: 'connected' });
    else this.#emit({ userId, online: false, at, cause: 'disconnected', storeLastSeen: opts.nodeLost === true });
  }

  /** Another node's user changed their status text: its rooms and feeds here are told. */
  statusChangedElsewhere(userId: string, now: () => number = Date.now): void {
    this.#emit({ userId, online: this.isOnline(userId), at: now(), cause: 'status' });
  }

  /** Registers one connection of `userId`; returns the function that unregisters it (idempotent). */
  connect(userId: string, now: () => number = Date.now): () => void {
    const before = this.#connections.get(userId) ?? 0;
    const elsewhere = this.#others?.onlineElsewhere(userId) ?? false;
    this.#connections.set(userId, before + 1);
    if (before === 0) {
      this.#others?.local(userId, true);
      if (!elsewhere) this.#emit({ userId, online: true, at: now(), cause: 'connected' });
    }
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const count = (this.#connections.get(userId) ?? 1) - 1;
      if (count > 0) {
        this.#connections.set(userId, count);
        return;
      }
      this.#connections.delete(userId);
      this.#others?.local(userId, false);
      if (!this.isOnline(userId)) this.#emit({ userId, online: false, at: now(), cause: 'disconnected' });
    };
  }

  /** Tells listeners the user's status text changed (it is stored elsewhere). */
  statusChanged(userId: string, now: () => number = Date.now): void {
    this.#others?.statusChanged(userId);
    this.#emit({ userId, online: this.isOnline(userId), at: now(), cause: 'status' });
  }

  /** Subscribes to online/offline transitions; returns the unsubscribe function. */
  on(listener: Listener): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  #emit(change: PresenceChange): void {
    for (const listener of this.#listeners) listener(change);
  }
}
