import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { uuidv4 } from '../../shared/ids.ts';
import { openTempDirectory } from '../../test/support/apiHarness.ts';
import { logModule, serverLogs } from '../../test/support/logCapture.ts';
import type { AsyncApi } from '../storage/AsyncApi.ts';
import { OutboxRepo, type OutboxEntry } from '../storage/OutboxRepo.ts';
import { SqliteAsync, sqliteAsync } from '../storage/SqliteAsync.ts';
import { WebhookSender } from './WebhookSender.ts';

/*
 * WebhookSender on the asynchronous outbox: leasing is no longer one synchronous step with
 * counting the free slots, and close() has leases and writes to wait for.
 */

let env: ReturnType<typeof openTempDirectory>;
let receiver: http.Server | null = null;
beforeEach(() => (env = openTempDirectory()));
afterEach(async () => {
  const server = receiver;
  receiver = null;
  if (server) {
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
  env.dispose();
});

/** A webhook endpoint that takes requests and never answers (or answers `status`); resolves `arrived(n)` once n came in. */
async function holdingReceiver(status?: number): Promise<{ url: string; arrived: (n: number) => Promise<void> }> {
  let count = 0;
  const waiters: Array<{ n: number; resolve: () => void }> = [];
  const server = http.createServer((req, res) => {
    req.resume();
    if (status !== undefined) res.writeHead(status).end();
    count++;
    for (const w of waiters.filter((w) => w.n <= count)) w.resolve();
  });
  receiver = server;
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`;
  return { url, arrived: (n) => (count >= n ? Promise.resolve() : new Promise((resolve) => waiters.push({ n, resolve }))) };
}

/**
 * An outbox as PostgreSQL's behaves for the caller: `batch` hands its function another repository
 * (bound to the transaction); every write says which one it went through.
 */
class NamedOutbox implements AsyncApi<OutboxRepo> {
  readonly #name: string;
  readonly #writes: string[];
  readonly #due: OutboxEntry[];
  constructor(name: string, writes: string[], due: OutboxEntry[] = []) {
    this.#name = name;
    this.#writes = writes;
    this.#due = due;
  }
  add(): Promise<number> {
    return Promise.resolve(0);
  }
  lease(_now: number, limit: number): Promise<OutboxEntry[]> {
    return Promise.resolve(this.#due.splice(0, limit));
  }
  batch<R>(fn: (tx: AsyncApi<OutboxRepo>) => Promise<R>): Promise<R> {
    return fn(new NamedOutbox('tx', this.#writes));
  }
  remove(id: string): Promise<void> {
    this.#writes.push(`${this.#name} remove ${id}`);
    return Promise.resolve();
  }
  retryAt(id: string): Promise<void> {
    this.#writes.push(`${this.#name} retryAt ${id}`);
    return Promise.resolve();
  }
  nextDueAt(): Promise<number | null> {
    return Promise.resolve(null);
  }
  size(): Promise<number> {
    return Promise.resolve(this.#due.length);
  }
}

describe('WebhookSender on the asynchronous outbox', () => {
  it('writes outcomes through the repository its batch hands it, never the outer one', async () => {
    const id = uuidv4();
    const writes: string[] = [];
    const { url } = await holdingReceiver(200);
    const sender = new WebhookSender({
      outbox: new NamedOutbox('outer', writes, [{ id, body: '{}', attempts: 0 }]),
      settings: { url, secret: 'a-secret-for-the-tests' },
      logger: logModule.createLogger('silent'),
    });
    sender.wake();
    await serverLogs.next((line) => line.msg === 'webhook: delivered' && line['delivery'] === id);
    await sender.close();
    expect(writes).toEqual([`tx remove ${id}`]);
  });

  it('never leases past its concurrency when woken twice at once, and gives back at close what it leased', async () => {
    const repo = new OutboxRepo(env.db);
    const now = Date.now();
    repo.add(
      Array.from({ length: 5 }, () => ({ id: uuidv4(), messageId: uuidv4(), userId: uuidv4(), body: '{}' })),
      now,
    );
    const { url, arrived } = await holdingReceiver();
    const sender = new WebhookSender({
      outbox: sqliteAsync(repo, new SqliteAsync(env.db)),
      settings: { url, secret: 'a-secret-for-the-tests', concurrency: 2, timeoutMs: 60_000 },
      logger: logModule.createLogger('silent'),
    });
    const leased = (): number => Number(env.db.prepare('SELECT COUNT(*) AS n FROM notification_outbox WHERE next_attempt_at > ?').pluck().get(Date.now()));

    // The notifier's wake and the start's, in one turn: the second waits for the first's lease.
    sender.wake();
    sender.wake();
    await arrived(2);
    expect(leased()).toBe(2);

    // Stopped mid-request: every row is due again at once, its attempt not counted.
    await sender.close();
    expect(leased()).toBe(0);
    expect(env.db.prepare('SELECT attempts FROM notification_outbox').pluck().all()).toEqual([0, 0, 0, 0, 0]);
    expect(repo.size()).toBe(5);
  });

  it('stopped while leasing: close() waits for the lease and gives those rows back, due at once', async () => {
    const repo = new OutboxRepo(env.db);
    repo.add(
      Array.from({ length: 3 }, () => ({ id: uuidv4(), messageId: uuidv4(), userId: uuidv4(), body: '{}' })),
      Date.now(),
    );
    const { url } = await holdingReceiver();
    const sender = new WebhookSender({
      outbox: sqliteAsync(repo, new SqliteAsync(env.db)),
      settings: { url, secret: 'a-secret-for-the-tests', concurrency: 2, timeoutMs: 60_000 },
      logger: logModule.createLogger('silent'),
    });
    sender.wake();
    await sender.close();
    // Nothing waits for a lease to run out on the next start.
    expect(Number(env.db.prepare('SELECT COUNT(*) FROM notification_outbox WHERE next_attempt_at > ?').pluck().get(Date.now()))).toBe(0);
    expect(env.db.prepare('SELECT attempts FROM notification_outbox').pluck().all()).toEqual([0, 0, 0]);
  });
});
