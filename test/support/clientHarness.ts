import net from 'node:net';
import { IDBKeyRange, indexedDB } from 'fake-indexeddb';
import { WebSocket } from 'ws';
import { ChatClient, type ChatClientOptions } from '../../client/ChatClient.ts';
import type { ChatRoom } from '../../client/room/ChatRoom.ts';
import type { WebSocketConstructor } from '../../client/sync/WebSocketLike.ts';
import { startTestServer, type TestServer, type TestUser } from './serverHarness.ts';

/** Fast reconnects: tests start and stop servers and must not wait out production backoff. */
export const TEST_BACKOFF = { baseMs: 20, maxMs: 250 } as const;

let dbCounter = 0;
/** A database name no other test uses (fake-indexeddb is shared by the whole test file). */
export const freshDbName = (label: string): string => `parley-test-${label}-${process.pid}-${++dbCounter}`;

export interface TestClientOptions extends Partial<ChatClientOptions> {
  readonly serverUrl: string;
  readonly token: string | (() => string);
}

/** A ChatClient on fake-indexeddb and the `ws` WebSocket, with test-speed reconnects. */
export function openTestClient({ token, ...opts }: TestClientOptions): Promise<ChatClient> {
  return ChatClient.open({
    indexedDB,
    IDBKeyRange,
    WebSocket: WebSocket as unknown as WebSocketConstructor,
    reconnect: TEST_BACKOFF,
    requestPersistentStorage: false,
    getToken: () => (typeof token === 'function' ? token() : token),
    ...opts,
  });
}

/** A port nobody listens on now (for a server that starts later). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

/**
 * Resolves once `predicate()` holds, re-checking each time `subscribe` reports an event; rejects
 * after `timeoutMs` with `what` (a hang must fail the test, not time it out silently).
 */
export function until(
  subscribe: (check: () => void) => () => void,
  predicate: () => boolean,
  what: string,
  timeoutMs = 20_000,
): Promise<void> {
  if (predicate()) return Promise.resolve();
  return new Promise((resolve, reject) => {
    let off = (): void => {};
    const timer = setTimeout(() => {
      off();
      reject(new Error(`timed out waiting for ${what}`));
    }, timeoutMs);
    off = subscribe(() => {
      if (!predicate()) return;
      clearTimeout(timer);
      off();
      resolve();
    });
  });
}

/** Resolves once the room's socket has synced. */
export const untilOnline = (room: ChatRoom): Promise<void> =>
  until((check) => room.on('connection', check), () => room.connectionState === 'online', 'the room to be online');

/** A room on a server that has stopped: the client starts with nothing listening at `serverUrl`. */
export interface StoppedServerRoom {
  readonly server: TestServer;
  readonly port: number;
  readonly serverUrl: string;
  readonly ana: TestUser;
  readonly bob: TestUser;
  readonly roomId: string;
  /** Starts the server again on the same port and data (the caller disposes what it returns). */
  restart(): Promise<TestServer>;
}

/**
 * Runs the server once to sign Ana and Bob up and create their room, then stops it: the starting
 * point of every offline test. `server.dispose()` removes the data dir once the test is done.
 */
export async function stoppedServerWithRoom(): Promise<StoppedServerRoom> {
  const port = await freePort();
  const server = await startTestServer({ PORT: String(port) });
  const ana = await server.login('Ana');
  const bob = await server.login('Bob');
  const roomId = await server.createRoom(ana, [bob]);
  await server.stop();
  return {
    server,
    port,
    serverUrl: `http://127.0.0.1:${port}`,
    ana,
    bob,
    roomId,
    restart: () => startTestServer({ PORT: String(port), PARLEY_DATA_DIR: server.dataDir }),
  };
}

/** Every one of `ids` is `sent` in `room` (the server's ack covers it). */
export const allSent = (room: ChatRoom, ids: readonly string[]): boolean => ids.every((id) => room.messageState(id)?.state === 'sent');

/** A message sent from `room` is `sent` there (the server's ack covers it). */
export const isSent = ({ room, id }: { readonly room: ChatRoom; readonly id: string }): boolean => allSent(room, [id]);

/** One unsubscribe for several subscriptions (`until` over the events of many rooms). */
export const merged =
  (offs: ReadonlyArray<() => void>): (() => void) =>
  () => {
    for (const off of offs) off();
  };
