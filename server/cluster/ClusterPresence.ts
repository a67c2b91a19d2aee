import type { Redis } from 'ioredis';
import { z } from 'zod';
import type { Logger } from '../log.ts';
import { parseJsonMessage } from './parseJsonMessage.ts';

const CHANNEL = 'parley:presence';

/** What nodes publish: a user's first connection or last disconnection on one node, or a node's whole online set. */
const PresenceMessageSchema = z.discriminatedUnion('type', [
  z.object({ type: z.literal('change'), node: z.string().min(1), userId: z.string().min(1), online: z.boolean() }),
  z.object({ type: z.literal('state'), node: z.string().min(1), users: z.array(z.string().min(1)) }),
  z.object({ type: z.literal('status'), node: z.string().min(1), userId: z.string().min(1) }),
]);
type PresenceMessage = z.infer<typeof PresenceMessageSchema>;

/** What another node told of a user: online there now (or on none of the others), or their status text changed. */
export type ElsewhereChange =
  | { readonly kind: 'online'; readonly userId: string; readonly onlineElsewhere: boolean; readonly nodeLost: boolean }
  | { readonly kind: 'status'; readonly userId: string };

export interface ClusterPresenceOptions {
  /** Publishes. */
  readonly redis: Redis;
  /** Subscribes (a subscribed connection can do nothing else). */
  readonly subscriber: Redis;
  readonly nodeId: string;
  readonly logger: Logger;
  /** How often each node publishes its whole online set; another node's set is forgotten after three of these. */
  readonly fullStateMs?: number;
}

/**
 * Who is online across nodes (docs/scale-out.md, "What crosses nodes"): a user is online while any
 * node holds a connection of theirs. Each node publishes its own transitions on Redis pub/sub as
 * they happen, and its whole online set every `fullStateMs`. Pub/sub may lose a message (a
 * subscriber reconnecting), which only delays a change until the next full set; a node that dies
 * stops publishing, and its users count as offline once its last set is three intervals old.
 * Presence is the one thing that may be late: nothing that must not be lost rides on it.
 */
export class ClusterPresence {
  readonly #opts: ClusterPresenceOptions;
  readonly #fullStateMs: number;
  /** This node's online users (its PresenceTracker's transitions, told through `local`). */
  readonly #local = new Set<string>();
  /** Other nodes' online users, and when each node was last heard from. */
  readonly #remote = new Map<string, { users: Set<string>; heardAt: number }>();
  readonly #elsewhere = new Set<(change: ElsewhereChange) => void>();
  readonly #timer: NodeJS.Timeout;
  readonly #ready: Promise<unknown>;

  constructor(opts: ClusterPresenceOptions) {
    this.#opts = opts;
    this.#fullStateMs = opts.fullStateMs ?? 5_000;
    opts.subscriber.on('message', (channel: string, raw: string) => {
      if (channel === CHANNEL) this.#receive(raw);
    });
    this.#ready = opts.subscriber.subscribe(CHANNEL);
    this.#timer = setInterval(() => this.#tick(), this.#fullStateMs);
    this.#timer.unref();
  }

  /** Resolves once this node hears the other nodes. */
  get ready(): Promise<unknown> {
    return this.#ready;
  }

  /** Whether the user has a connection on another live node. */
  onlineElsewhere(userId: string): boolean {
    for (const { users } of this.#remote.values()) if (users.has(userId)) return true;
    return false;
  }

  /** This node's user changed their status text: the other nodes tell their rooms and feeds. */
  statusChanged(userId: string): void {
    this.#publish({ type: 'status', node: this.#opts.nodeId, userId });
  }

  /** Subscribes to what the other nodes tell (PresenceTracker.elsewhere); returns the unsubscribe function. */
  onElsewhere(listener: (change: ElsewhereChange) => void): () => void {
    this.#elsewhere.add(listener);
    return () => this.#elsewhere.delete(listener);
  }

  /** This node's own transition (its PresenceTracker's `connected` / `disconnected`): published at once. */
  local(userId: string, online: boolean): void {
    if (online) this.#local.add(userId);
    else this.#local.delete(userId);
    this.#publish({ type: 'change', node: this.#opts.nodeId, userId, online });
  }

  /** Stops publishing. The subscriber connection is its owner's (ClusterServices shares it with ClusterFeed). */
  close(): void {
    clearInterval(this.#timer);
  }

  /** Every interval: publish this node's whole set, forget nodes not heard from in three. */
  #tick(now = Date.now()): void {
    this.#publish({ type: 'state', node: this.#opts.nodeId, users: [...this.#local] });
    for (const [node, { heardAt }] of this.#remote) {
      if (now - heardAt <= 3 * this.#fullStateMs) continue;
      this.#opts.logger.warn({ peer: node }, 'presence: node not heard from; its users count as offline');
      this.#replace(node, null, now);
    }
  }

  #receive(raw: string, now = Date.now()): void {
    const message = parseJsonMessage(PresenceMessageSchema, raw);
    if (!message) {
      this.#opts.logger.warn({ raw: raw.slice(0, 200) }, 'presence: malformed message skipped');
      return;
    }
    if (message.node === this.#opts.nodeId) return;
    if (message.type === 'state') {
      this.#replace(message.node, new Set(message.users), now);
      return;
    }
    if (message.type === 'status') {
      for (const listener of this.#elsewhere) listener({ kind: 'status', userId: message.userId });
      return;
    }
    const entry = this.#remote.get(message.node) ?? { users: new Set<string>(), heardAt: now };
    this.#remote.set(message.node, entry);
    entry.heardAt = now;
    const beforeElsewhere = this.onlineElsewhere(message.userId);
    if (message.online) entry.users.add(message.userId);
    else entry.users.delete(message.userId);
    this.#announceElsewhere(message.userId, beforeElsewhere, false);
  }

  /** Sets (or, with null, forgets) a node's whole online set, announcing every user whose state flips. */
  #replace(node: string, users: Set<string> | null, now = Date.now()): void {
    const previous = this.#remote.get(node)?.users ?? new Set<string>();
    const touched = new Set([...previous, ...(users ?? [])]);
    const beforeElsewhere = new Map([...touched].map((userId) => [userId, this.onlineElsewhere(userId)]));
    if (users) this.#remote.set(node, { users, heardAt: now });
    else this.#remote.delete(node);
    for (const userId of touched) this.#announceElsewhere(userId, beforeElsewhere.get(userId) ?? false, users === null);
  }

  #announceElsewhere(userId: string, before: boolean, nodeLost: boolean): void {
    const onlineElsewhere = this.onlineElsewhere(userId);
    if (onlineElsewhere === before) return;
    for (const listener of this.#elsewhere) listener({ kind: 'online', userId, onlineElsewhere, nodeLost });
  }

  #publish(message: PresenceMessage): void {
    this.#opts.redis.publish(CHANNEL, JSON.stringify(message)).catch((err: unknown) => this.#opts.logger.warn({ err }, 'presence: publish failed; the next full set corrects it'));
  }
}
