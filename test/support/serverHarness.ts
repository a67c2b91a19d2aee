import path from 'node:path';
import * as Y from 'yjs';
import { WebSocket } from 'ws';
import { WebsocketProvider } from 'y-websocket';
import { MessageType } from '../../shared/protocol/messageTypes.ts';
import { readAck } from '../../shared/protocol/frames.ts';
import { loadConfig, type Config } from '../../server/config.ts';
import { createLogger } from '../../server/log.ts';
import { startServer, type RunningServer } from '../../server/ParleyServer.ts';
import { makeTempDir } from './tempDir.ts';

export interface TestUser {
  id: string;
  name: string;
  token: string;
}

export interface TestServer {
  server: RunningServer;
  config: Config;
  url: string;
  /** ws://HOST:PORT/sync — the serverUrl a WebsocketProvider takes. */
  syncUrl: string;
  dataDir: string;
  login(name: string): Promise<TestUser>;
  /** Calls the REST API as `user`; returns status and parsed JSON body. */
  api(user: TestUser | null, method: string, route: string, body?: unknown): Promise<{ status: number; body: unknown }>;
  createRoom(owner: TestUser, members: TestUser[], type?: 'group' | 'channel' | 'direct'): Promise<string>;
  /** Stops the server (the data dir stays, for restarts). */
  stop(): Promise<void>;
  /** Starts a new server on the same data dir (after stop). */
  restart(): Promise<void>;
  /** Stops the server and deletes the data dir. */
  dispose(): Promise<void>;
}

/** A started test server with Ana (the room's owner) and Ben (a member) in one room. */
export interface TwoMemberRoom {
  t: TestServer;
  ana: TestUser;
  ben: TestUser;
  roomId: string;
}

/** startTestServer, then Ana and Ben signed in and a room with both of them. */
export async function startWithRoom(env: Record<string, string> = {}): Promise<TwoMemberRoom> {
  const t = await startTestServer(env);
  const ana = await t.login('Ana');
  const ben = await t.login('Ben');
  const roomId = await t.createRoom(ana, [ben]);
  return { t, ana, ben, roomId };
}

/**
 * Starts the real server on port 0 with a fresh data dir and dev login on; `overrides` set what
 * has no environment variable (a webhook's retry schedule).
 */
export async function startTestServer(env: Record<string, string> = {}, overrides: Partial<Config> = {}): Promise<TestServer> {
  const tmp = makeTempDir();
  const config: Config = {
    ...loadConfig({ PORT: '0', PARLEY_DATA_DIR: tmp.dir, PARLEY_DEV_LOGIN: '1', PARLEY_LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'silent', ...env }, []),
    ...overrides,
  };
  const logger = createLogger(config.logLevel, config.nodeId);
  let server = await startServer(config, logger);
  let stopped = false;

  const harness: TestServer = {
    server,
    config,
    get url() {
      return server.url;
    },
    get syncUrl() {
      return server.url.replace(/^http/, 'ws') + '/sync';
    },
    dataDir: path.resolve(tmp.dir),
    async login(name) {
      const res = await harness.api(null, 'POST', '/api/auth/dev-login', { name });
      if (res.status !== 200) throw new Error(`dev login failed: ${res.status} ${JSON.stringify(res.body)}`);
      const body = res.body as { token: string; user: { id: string; name: string } };
      return { id: body.user.id, name: body.user.name, token: body.token };
    },
    async api(user, method, route, body) {
      const res = await fetch(server.url + route, {
        method,
        headers: {
          ...(user ? { authorization: `Bearer ${user.token}` } : {}),
          ...(body === undefined ? {} : { 'content-type': 'application/json' }),
        },
        body: body === undefined ? null : JSON.stringify(body),
      });
      const text = await res.text();
      return { status: res.status, body: text ? JSON.parse(text) : null };
    },
    async createRoom(owner, members, type = 'group') {
      const res = await harness.api(owner, 'POST', '/api/rooms', {
        name: type === 'direct' ? null : `room of ${owner.name}`,
        type,
        members: members.map((m) => ({ user_id: m.id })),
      });
      if (res.status !== 201) throw new Error(`create room failed: ${res.status} ${JSON.stringify(res.body)}`);
      return (res.body as { id: string }).id;
    },
    async stop() {
      if (stopped) return;
      stopped = true;
      await server.close();
    },
    async restart() {
      if (!stopped) await server.close();
      server = await startServer({ ...config, port: 0 }, logger);
      harness.server = server;
      stopped = false;
    },
    async dispose() {
      await harness.stop();
      tmp.remove();
    },
  };
  return harness;
}

interface AckState {
  /** The newest state vector the server acknowledged on this provider. */
  stateVector: Map<number, number>;
  listeners: Set<() => void>;
}
const ackedState = new WeakMap<WebsocketProvider, AckState>();

/**
 * A stock y-websocket provider (Node, `ws` as the WebSocket) on a room. With `parley`, it asks
 * for Parley's extra messages and ignores them quietly, as the Parley client does; tests read
 * them from the socket.
 */
export function openProvider(
  syncUrl: string,
  roomId: string,
  token: string,
  { doc = new Y.Doc(), parley = false }: { doc?: Y.Doc; parley?: boolean } = {},
): WebsocketProvider {
  const provider = new WebsocketProvider(syncUrl, roomId, doc, {
    WebSocketPolyfill: WebSocket as unknown as typeof globalThis.WebSocket,
    params: { token, ...(parley ? { parley: '1' } : {}) },
    disableBc: true,
  });
  if (parley) {
    const acks: AckState = { stateVector: new Map(), listeners: new Set() };
    ackedState.set(provider, acks);
    provider.messageHandlers[MessageType.Ack] = (_encoder, decoder) => {
      acks.stateVector = Y.decodeStateVector(readAck(decoder).stateVector);
      for (const listener of [...acks.listeners]) listener();
    };
    provider.messageHandlers[MessageType.Error] = () => {};
  }
  return provider;
}

/** openProvider on the test server, as `user`. */
export function connectProvider(
  t: TestServer,
  roomId: string,
  user: TestUser,
  doc = new Y.Doc(),
  { parley = false }: { parley?: boolean } = {},
): WebsocketProvider {
  return openProvider(t.syncUrl, roomId, user.token, { doc, parley });
}

/** Resolves once the provider has completed its first sync. */
export function synced(provider: WebsocketProvider): Promise<void> {
  if (provider.synced) return Promise.resolve();
  return new Promise((resolve) => {
    const onSync = (isSynced: boolean) => {
      if (!isSynced) return;
      provider.off('sync', onSync);
      resolve();
    };
    provider.on('sync', onSync);
  });
}

/** Resolves when the provider's socket is closed by the server; yields the close code and reason. */
export function closedByServer(provider: WebsocketProvider): Promise<{ code: number; reason: string }> {
  return new Promise((resolve) => {
    const onClose = (event: CloseEvent | null) => {
      if (!event) return;
      provider.off('connection-close', onClose);
      resolve({ code: event.code, reason: event.reason });
    };
    provider.on('connection-close', onClose);
  });
}

/** Resolves once `predicate(doc)` holds, re-checking after every update to the doc. */
export function untilDoc(doc: Y.Doc, predicate: (doc: Y.Doc) => boolean): Promise<void> {
  if (predicate(doc)) return Promise.resolve();
  return new Promise((resolve) => {
    const check = () => {
      if (!predicate(doc)) return;
      doc.off('update', check);
      resolve();
    };
    doc.on('update', check);
  });
}

/** Whether state vector `have` covers every clock in `want`. */
export function covers(have: Map<number, number>, want: Map<number, number>): boolean {
  for (const [client, clock] of want) if ((have.get(client) ?? 0) < clock) return false;
  return true;
}

/**
 * Resolves when the server acknowledges (has committed) everything this provider's doc wrote so
 * far. Only the doc's own client id counts: what it received from others came through the
 * server, which relays only what it has committed.
 */
export function acknowledged(provider: WebsocketProvider): Promise<void> {
  const acks = ackedState.get(provider);
  if (!acks) return Promise.reject(new Error('acknowledged() needs a provider opened with { parley: true }'));
  const { clientID } = provider.doc;
  const target = new Map([[clientID, Y.getState(provider.doc.store, clientID)]]);
  if (covers(acks.stateVector, target)) return Promise.resolve();
  return new Promise((resolve) => {
    const check = () => {
      if (!covers(acks.stateVector, target)) return;
      acks.listeners.delete(check);
      resolve();
    };
    acks.listeners.add(check);
  });
}
