import { type ChildProcess, fork } from 'node:child_process';
import { z } from 'zod';
import { lowerHelperThreads } from '../../server/workers/lowerHelperThreads.ts';
import { lowerThreadPriority } from '../../server/workers/lowerThreadPriority.ts';
import type { Protocol } from './peerServer.ts';
import { fullSyncWatcher } from './seed.ts';
import { SyncClient } from './syncClient.ts';

/*
 * Clients that download a whole big room, run in a child process of their own at the lowest CPU
 * priority, every thread of it: the noisy-neighbour scenario times a small room from the load
 * generator while these make the server send hundreds of MB, and receiving those in the load
 * generator's own event loop would measure the load generator (its lag reached 90 ms), not the
 * server. The child keeps its connections open until it is stopped, so the room they opened stays
 * loaded.
 *
 * Parent -> child: { open: [{ url, docName, protocol, token, label }], expectedBytes, batch }
 * Child -> parent: { batch, ms } once every client of that batch has expectedBytes of sync payload,
 *                  or { batch, error } when one fails.
 */

const JoinerSchema = z.object({ url: z.string(), docName: z.string(), protocol: z.enum(['y-websocket', 'hocuspocus', 'raw']), token: z.string(), label: z.string() });
const OpenSchema = z.object({ open: z.array(JoinerSchema), expectedBytes: z.number(), batch: z.number() });
const ReplySchema = z.union([z.object({ batch: z.number(), ms: z.number() }), z.object({ batch: z.number(), error: z.string() })]);
export type Joiner = z.infer<typeof JoinerSchema> & { readonly protocol: Protocol };

export class BackgroundJoiners {
  readonly #child: ChildProcess;
  readonly #waiting = new Map<number, { resolve: (ms: number) => void; reject: (error: Error) => void }>();
  #batch = 0;

  constructor() {
    this.#child = fork(import.meta.filename, ['--child'], { execArgv: ['--import', 'tsx'], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    this.#child.on('message', (raw) => {
      const reply = ReplySchema.parse(raw);
      const waiting = this.#waiting.get(reply.batch);
      this.#waiting.delete(reply.batch);
      if ('error' in reply) waiting?.reject(new Error(reply.error));
      else waiting?.resolve(reply.ms);
    });
    this.#child.on('exit', (code) => {
      for (const waiting of this.#waiting.values()) waiting.reject(new Error(`the joiners' process exited (${code})`));
      this.#waiting.clear();
    });
  }

  /** Opens `joiners` at once; resolves with the ms until every one has received `expectedBytes` of the room. */
  join(joiners: readonly Joiner[], expectedBytes: number): Promise<number> {
    const batch = ++this.#batch;
    return new Promise((resolve, reject) => {
      this.#waiting.set(batch, { resolve, reject });
      this.#child.send({ open: joiners, expectedBytes, batch });
    });
  }

  stop(): void {
    this.#child.kill('SIGKILL');
  }
}

if (process.argv.includes('--child') && process.send) {
  const clients: SyncClient[] = [];
  process.on('message', (raw) => {
    const { open, expectedBytes, batch } = OpenSchema.parse(raw);
    const started = performance.now();
    const done = open.map((joiner) => {
      const watcher = fullSyncWatcher(expectedBytes);
      const client = new SyncClient({ ...joiner, onUpdate: watcher.onUpdate });
      clients.push(client);
      return Promise.race([watcher.done, client.failed]);
    });
    Promise.all(done).then(
      (arrivals) => process.send?.({ batch, ms: Math.max(...arrivals) - started }),
      (error: unknown) => process.send?.({ batch, error: error instanceof Error ? error.message : String(error) }),
    );
  });
  process.on('disconnect', () => process.exit(0));
  // Every thread at the lowest priority, the child's own doing: on Linux a nice value belongs to a
  // thread, and one set on the child's pid lowers its main thread only, leaving V8's threads (its
  // collections of the hundreds of MB it receives) and libuv's at full priority on the load
  // generator's core. The helpers first: lowerHelperThreads picks them out as the threads still
  // at the main thread's nice value. The parent's first batch comes seconds after this (after its
  // warm-up window).
  await lowerHelperThreads(19);
  lowerThreadPriority(19);
}
