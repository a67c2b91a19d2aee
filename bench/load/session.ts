import type * as Y from 'yjs';
import type { RunningPeer } from './peerServer.ts';
import { type ClientOptions, SyncClient } from './syncClient.ts';

/*
 * Every client of one run against one server, and the rule that keeps its figures honest: every
 * wait is raced against the first client failure (a dropped connection, a server error), the
 * server's unexpected exit, and a stall timeout, so a broken run fails within one wait instead
 * of reporting numbers about reconnects or timeouts.
 */

export const STALL_MS = 60_000;

export class Session {
  readonly peer: RunningPeer;
  readonly clients: SyncClient[] = [];
  readonly failed: Promise<never>;
  #fail: (error: Error) => void = () => {};
  #error: Error | null = null;

  constructor(peer: RunningPeer) {
    this.peer = peer;
    this.failed = new Promise<never>((_, reject) => (this.#fail = reject));
    this.failed.catch(() => {});
    peer.died.catch((error: Error) => this.#failWith(error));
  }

  open(opts: ClientOptions): SyncClient {
    this.check();
    const client = new SyncClient(opts);
    this.clients.push(client);
    client.failed.catch((error: Error) => this.#failWith(error));
    return client;
  }

  /** Throws the first failure, if any. */
  check(): void {
    if (this.#error) throw this.#error;
  }

  /** `work`, unless a client or the server failed, or `stallMs` passed first. */
  async wait<T>(work: Promise<T>, what: string, stallMs = STALL_MS): Promise<T> {
    let timer: NodeJS.Timeout | undefined;
    const stalled = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`${this.peer.name}: ${what}: nothing for ${stallMs / 1000} s`)), stallMs);
    });
    try {
      return await Promise.race([work, this.failed, stalled]);
    } finally {
      clearTimeout(timer);
    }
  }

  /** Opens clients in batches (so a connect storm is the scenario's choice, not an accident) and waits for their first sync. */
  async openSynced(options: readonly ClientOptions[], batch = 100): Promise<SyncClient[]> {
    const opened: SyncClient[] = [];
    for (let i = 0; i < options.length; i += batch) {
      const group = options.slice(i, i + batch).map((o) => this.open(o));
      await this.wait(Promise.all(group.map((c) => c.synced)), `first sync of clients ${i}..${i + group.length - 1}`);
      opened.push(...group);
    }
    return opened;
  }

  /** Closes every client, failing nothing: the end of a run. */
  async closeAll(): Promise<void> {
    const clients = this.clients.splice(0);
    await Promise.all(
      clients.map((c) =>
        Promise.race([c.close(), new Promise<void>((resolve) => setTimeout(resolve, 5_000))]).then(() => c.terminate()),
      ),
    );
  }

  #failWith(error: Error): void {
    this.#error ??= error;
    this.#fail(error);
  }
}

/** Yields to the event loop so sockets are read and written between sends. */
export const tick = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** CPU (user + system, all threads) this process has used, in ms. */
export const ownCpuMs = (): number => {
  const { user, system } = process.cpuUsage();
  return (user + system) / 1000;
};

export type { Y };
