import type { MessageView } from '../../shared/roomDoc/messageView.ts';
import { ClientError } from '../errors/ClientError.ts';
import type { RoomReplica } from '../room/RoomReplica.ts';
import type { RoomConnection } from './RoomConnection.ts';
import type { RoomSyncFactory } from './RoomSyncFactory.ts';
import { syncRoomOnce } from './syncRoomOnce.ts';
import { type CaughtRecentPage, catchRecentPage } from './catchRecentPage.ts';
import { SegmentIndex } from '../../shared/roomDoc/segments.ts';

export interface BackgroundSyncOptions {
  /** Most rooms synced at once in the background (each holds one WebSocket while it syncs). Default 3. */
  readonly maxConnections?: number;
  /** Pause between two sweeps over every room (ms). Default 60,000. */
  readonly intervalMs?: number;
  /**
   * Longest a sync of a segmented room waits, once its head synced, for the recent page the server
   * is still reading from storage (ms; an open of the room cuts it short). Default 2,000.
   */
  readonly recentWaitMs?: number;
}

export interface BackgroundSyncDeps extends BackgroundSyncOptions {
  readonly factory: RoomSyncFactory;
  /** The rooms to keep up to date, most important first (rooms open in the foreground excluded). */
  readonly rooms: () => readonly string[];
  /** Whether a room is open in the foreground (then it syncs there, not here). */
  readonly isOpen: (roomId: string) => boolean;
  /** Give up on one room's sync after this long (ms). Default 20,000. */
  readonly timeoutMs?: number;
  /** A room was synced: its replica, before it closes (for the room list's summary). */
  readonly synced: (roomId: string, replica: RoomReplica) => void;
  /**
   * A segmented room's newest messages came with its head's greeting (its recent page): kept on
   * the device as they arrive, so that opening the room paints them before its head and segments
   * have synced. Must not reject.
   */
  readonly recentPage: (roomId: string, messages: readonly MessageView[]) => Promise<void>;
  /** Whether the server was reached, as the last sync found. */
  readonly reachable: (reachable: boolean) => void;
  readonly onError: (error: ClientError) => void;
}

/** A background sync's recent page: kept (resolves once stored, or the sync ended without one), and whether to wait for a late one. */
interface RecentWait {
  readonly kept: Promise<void>;
  readonly resolveKept: () => void;
  /** Someone waits for the sync to end (settled): no waiting for a late page. */
  hurried: boolean;
  /** The page listened for, once connected. */
  caught: CaughtRecentPage | null;
}

/**
 * Keeps rooms the user has not opened up to date, so unread counts and offline reading work,
 * without holding a socket per room: a sweep syncs each room once (connect, exchange what each
 * side lacks, wait for the ack, disconnect), at most `maxConnections` at a time, then sleeps
 * `intervalMs`. `kick()` starts a sweep now (after sign-in, on coming back online, after the room
 * list changed).
 */
export class BackgroundSync {
  readonly #deps: BackgroundSyncDeps;
  /** Each room's sync under way, so one room never syncs twice at once. */
  readonly #running = new Map<string, Promise<void>>();
  /** The replicas and connections of those syncs, once loaded (a replica's client id follows a retirement). */
  readonly #replicas = new Map<string, RoomReplica>();
  readonly #connections = new Map<string, RoomConnection>();
  /** Per sync under way: its recent page (see RecentWait). */
  readonly #recent = new Map<string, RecentWait>();
  readonly #enabled: boolean;
  #timer: ReturnType<typeof setTimeout> | null = null;
  #sweeping: Promise<void> | null = null;
  #again = false;
  #stopped = false;

  constructor(deps: BackgroundSyncDeps, enabled = true) {
    this.#deps = deps;
    this.#enabled = enabled;
  }

  get maxConnections(): number {
    return Math.max(1, this.#deps.maxConnections ?? 3);
  }

  /** The replicas of syncs under way. */
  replicas(): RoomReplica[] {
    return [...this.#replicas.values()];
  }

  /** Whether a room is being synced in the background right now. */
  has(roomId: string): boolean {
    return this.#running.has(roomId);
  }

  /**
   * Resolves once the room's background sync (if any) is over. It no longer waits for a recent
   * page still to come: whoever waits (an open of the room) gets the page on its own channel.
   */
  async settled(roomId: string): Promise<void> {
    const wait = this.#recent.get(roomId);
    if (wait) {
      wait.hurried = true;
      wait.caught?.cut();
    }
    await this.#running.get(roomId);
  }

  /**
   * Resolves once the room's background sync (if any) kept the recent page the server sent with
   * its head, or ended without one: a room opened meanwhile paints it before the sync is over.
   */
  async recentKept(roomId: string): Promise<void> {
    await this.#recent.get(roomId)?.kept;
  }

  /** Starts a sweep now, or right after the running one. Resolves when that sweep is done. */
  kick(): Promise<void> {
    if (this.#stopped || !this.#enabled) return Promise.resolve();
    if (this.#sweeping) {
      this.#again = true;
      return this.#sweeping;
    }
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = null;
    this.#sweeping = this.#sweep().finally(() => {
      this.#sweeping = null;
      if (this.#stopped) return;
      if (this.#again) {
        this.#again = false;
        void this.kick();
        return;
      }
      this.#timer = setTimeout(() => void this.kick(), this.#deps.intervalMs ?? 60_000);
    });
    return this.#sweeping;
  }

  /**
   * Syncs one room once: connect, exchange what each side lacks, wait until the server
   * acknowledged everything of ours, disconnect; then hand the replica to `synced`. Never rejects.
   */
  syncOnce(roomId: string): Promise<void> {
    if (this.#stopped || this.#deps.isOpen(roomId)) return Promise.resolve();
    let running = this.#running.get(roomId);
    if (!running) {
      let resolveKept!: () => void;
      const wait: RecentWait = { kept: new Promise<void>((resolve) => (resolveKept = resolve)), resolveKept, hurried: false, caught: null };
      this.#recent.set(roomId, wait);
      running = this.#syncOnce(roomId, wait).finally(() => {
        wait.resolveKept();
        this.#recent.delete(roomId);
        this.#running.delete(roomId);
      });
      this.#running.set(roomId, running);
    }
    return running;
  }

  /** Stops sweeping, closes the syncs under way and waits for them to end. */
  async stop(): Promise<void> {
    this.#stopped = true;
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = null;
    // A closed connection goes offline, which ends its sync at once.
    for (const connection of this.#connections.values()) connection.close();
    await this.#sweeping;
    await Promise.allSettled([...this.#running.values()]);
  }

  async #sweep(): Promise<void> {
    const queue = [...this.#deps.rooms()];
    const worker = async (): Promise<void> => {
      for (let roomId = queue.shift(); roomId !== undefined && !this.#stopped; roomId = queue.shift()) {
        await this.syncOnce(roomId);
      }
    };
    await Promise.all(Array.from({ length: Math.min(this.maxConnections, queue.length) }, worker));
  }

  async #syncOnce(roomId: string, wait: RecentWait): Promise<void> {
    const { factory, onError } = this.#deps;
    let replica: RoomReplica;
    try {
      replica = await factory.loadReplica(roomId);
    } catch (error) {
      onError(error instanceof ClientError ? error : new ClientError('storage_failed', String(error), error));
      return;
    }
    if (this.#stopped) {
      await replica.close();
      return;
    }
    this.#replicas.set(roomId, replica);
    const { connection, release } = factory.connect(replica);
    this.#connections.set(roomId, connection);
    const recent = catchRecentPage(connection, async (messages) => {
      await this.#deps.recentPage(roomId, messages);
      wait.resolveKept();
    });
    wait.caught = recent;
    const outcome = await syncRoomOnce(replica, connection, this.#deps.timeoutMs ?? 20_000, onError);
    // The server reads a segmented room's page from storage when nobody read it lately: it can
    // follow the head's sync by a few milliseconds. Not when someone waits for this sync to end.
    if (outcome === 'done' && !wait.hurried && SegmentIndex.of(replica.doc).segmented) await recent.arrival(this.#deps.recentWaitMs ?? 2_000);
    await recent.end();
    if (outcome === 'unreachable') this.#deps.reachable(false);
    if (connection.synced) this.#deps.reachable(true);
    connection.close();
    release();
    this.#connections.delete(roomId);
    this.#replicas.delete(roomId);
    this.#deps.synced(roomId, replica);
    await replica.close();
  }
}
