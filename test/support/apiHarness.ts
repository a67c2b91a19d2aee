import { UserRateLimiter, type UserRateLimit } from '../../server/limits/UserRateLimiter.ts';
import { defaultConfig } from '../../server/config.ts';
import path from 'node:path';
import type { AddressInfo } from 'node:net';
import { serve, type ServerType } from '@hono/node-server';
import pino from 'pino';
import { SignJWT } from 'jose';
import { expect } from 'vitest';
import { uuidv4, uuidv7 } from '../../shared/ids.ts';
import { ApiErrorBodySchema, type ErrorCode, ERROR_STATUS } from '../../shared/errors/errorCodes.ts';
import { type ChatMessage, PLAIN_CONVERSATION_FIELDS } from '../../shared/models/chatMessage.ts';
import { ChatMemberSchema, type ChatMember } from '../../shared/models/chatMember.ts';
import { ChatRoomSchema, type ChatRoom } from '../../shared/models/chatRoom.ts';
import { toTimestamp } from '../../shared/models/timestamps.ts';
import { DevLoginResponseSchema, type User } from '../../shared/models/user.ts';
import { TokenService } from '../../server/auth/TokenService.ts';
import { PresenceTracker } from '../../server/presence/PresenceTracker.ts';
import { Directory } from '../../server/storage/Directory.ts';
import { SqliteDirectory } from '../../server/storage/DirectoryApi.ts';
import { SqliteAsync } from '../../server/storage/SqliteAsync.ts';
import { openDatabase, type Db } from '../../server/storage/openDatabase.ts';
import type { AccessNotifier } from '../../server/http/ApiDeps.ts';
import { createApi } from '../../server/http/createApi.ts';
import { LaggingDirectory } from './laggingDirectory.ts';
import { makeTempDir } from './tempDir.ts';

/**
 * The one place the REST and directory tests start things: a real SQLite file in a temp dir,
 * real TokenService and PresenceTracker, the Hono app on a real port, requests with fetch.
 */

export const TEST_SECRET = 'test-secret-that-is-at-least-32-bytes-long!';
/** The tests' clock starts here (2026-01-01T00:00:00Z) and moves only when told. */
export const T0 = Date.UTC(2026, 0, 1);

export type AccessCall = { kind: 'membership'; roomId: string; userId: string } | { kind: 'room'; roomId: string };

/** The sync-layer seam, recording what it was told. */
export class RecordingAccess implements AccessNotifier {
  calls: AccessCall[] = [];
  membershipChanged(roomId: string, userId: string): void {
    this.calls.push({ kind: 'membership', roomId, userId });
  }
  roomChanged(roomId: string): void {
    this.calls.push({ kind: 'room', roomId });
  }
  /** The calls so far, forgetting them. */
  take(): AccessCall[] {
    const calls = this.calls;
    this.calls = [];
    return calls;
  }
}

export class TestClock {
  ms = T0;
  readonly now = (): number => this.ms;
  advance(ms: number): number {
    this.ms += ms;
    return this.ms;
  }
}

export interface Session {
  user: User;
  token: string;
}

export interface ApiResponse {
  status: number;
  headers: Headers;
  /** Parsed JSON, or null for an empty body. */
  body: unknown;
}

export interface RequestOptions {
  /** Sent as `Authorization: Bearer <token>`. */
  as?: Session | string;
  /** Sent as JSON. */
  json?: unknown;
  /** Sent verbatim (malformed JSON tests). */
  rawBody?: string;
  headers?: Record<string, string>;
}

export interface ApiHarness {
  url: string;
  /** The synchronous directory under the API's, for tests to arrange and inspect between requests. */
  directory: Directory;
  tokens: TokenService;
  presence: PresenceTracker;
  access: RecordingAccess;
  clock: TestClock;
  /** Log lines (JSON) at warn level and above. */
  logLines: string[];
  request(method: string, route: string, options?: RequestOptions): Promise<ApiResponse>;
  /** Dev login as `name` (needs dev login enabled). */
  login(name: string): Promise<Session>;
  /** A session minted directly with the TokenService (works with dev login off). */
  sessionFor(name: string, id?: string): Promise<Session>;
  createRoom(as: Session, body: Record<string, unknown>): Promise<ChatRoom>;
  addMember(as: Session, roomId: string, body: Record<string, unknown>): Promise<ChatMember>;
  close(): Promise<void>;
}

export interface StartOptions {
  devLogin?: boolean;
  /** Replaces the real tracker (to make it fail). */
  presence?: PresenceTracker;
  /** POST /api/rooms per user; the server's defaults when absent. */
  roomCreation?: UserRateLimit;
  /**
   * Every directory call of the API outside a transaction waits this long first (LaggingDirectory),
   * so that concurrent requests interleave as on a network database; none when absent.
   */
  directoryLatencyMs?: number;
}

const bearer = (as: Session | string): string => `Bearer ${typeof as === 'string' ? as : as.token}`;

export async function startApi(options: StartOptions = {}): Promise<ApiHarness> {
  const tmp = makeTempDir('parley-api-');
  const db = openDatabase(path.join(tmp.dir, 'parley.db'));
  const directory = new Directory(db);
  const tokens = new TokenService(TEST_SECRET);
  const presence = options.presence ?? new PresenceTracker();
  const access = new RecordingAccess();
  const clock = new TestClock();
  const logLines: string[] = [];
  const logger = pino({ level: 'warn' }, { write: (line: string) => void logLines.push(line) });
  // As ParleyServer wires it: the asynchronous face, one SqliteAsync on the connection.
  const directoryApi = new SqliteDirectory(directory, new SqliteAsync(db));
  const app = createApi({
    directory: options.directoryLatencyMs === undefined ? directoryApi : new LaggingDirectory(directoryApi, options.directoryLatencyMs),
    tokens,
    devTokens: tokens,
    presence,
    logger,
    access,
    devLogin: { enabled: options.devLogin ?? true, tokenTtlSeconds: 3600 },
    roomCreation: new UserRateLimiter(options.roomCreation ?? defaultConfig().roomCreation, clock.now),
    now: clock.now,
  });

  const server: ServerType = await new Promise((resolve) => {
    const s = serve({ fetch: app.fetch, port: 0, hostname: '127.0.0.1' }, () => resolve(s));
  });
  const { port } = server.address() as AddressInfo;
  const url = `http://127.0.0.1:${port}`;

  const harness: ApiHarness = {
    url,
    directory,
    tokens,
    presence,
    access,
    clock,
    logLines,
    async request(method, route, { as, json, rawBody, headers = {} } = {}) {
      const res = await fetch(url + route, {
        method,
        headers: {
          ...(as === undefined ? {} : { authorization: bearer(as) }),
          ...(json === undefined && rawBody === undefined ? {} : { 'content-type': 'application/json' }),
          ...headers,
        },
        body: rawBody ?? (json === undefined ? null : JSON.stringify(json)),
      });
      const text = await res.text();
      return { status: res.status, headers: res.headers, body: text === '' ? null : JSON.parse(text) };
    },
    async login(name) {
      const res = await harness.request('POST', '/api/auth/dev-login', { json: { name } });
      expect(res.status, JSON.stringify(res.body)).toBe(200);
      const { token, user } = DevLoginResponseSchema.parse(res.body);
      return { token, user };
    },
    async sessionFor(name, id = uuidv4()) {
      const user = { id, name };
      return { user, token: await tokens.sign(user, 3600) };
    },
    async createRoom(as, body) {
      const res = await harness.request('POST', '/api/rooms', { as, json: body });
      expect(res.status, JSON.stringify(res.body)).toBe(201);
      return ChatRoomSchema.parse(res.body);
    },
    async addMember(as, roomId, body) {
      const res = await harness.request('POST', `/api/rooms/${roomId}/members`, { as, json: body });
      expect(res.status, JSON.stringify(res.body)).toBe(201);
      return ChatMemberSchema.parse(res.body);
    },
    async close() {
      await new Promise<void>((resolve, reject) => server.close((err) => (err ? reject(err) : resolve())));
      db.close();
      tmp.remove();
    },
  };
  return harness;
}

/** Asserts an error response: its status is ERROR_STATUS[code], its body the error envelope. Returns the error. */
export function expectError(res: ApiResponse, code: ErrorCode) {
  expect(res.status, JSON.stringify(res.body)).toBe(ERROR_STATUS[code]);
  const { error } = ApiErrorBodySchema.parse(res.body);
  expect(error.code).toBe(code);
  return error;
}

/** A Bearer token signed with the test secret but with any claims and expiry (jose directly). */
export async function signRawToken(claims: Record<string, unknown>, options: { expiresAt?: number; secret?: string } = {}): Promise<string> {
  const nowSeconds = Math.floor(Date.now() / 1000);
  return new SignJWT(claims)
    .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
    .setIssuedAt(nowSeconds - 7200)
    .setExpirationTime(options.expiresAt ?? nowSeconds + 3600)
    .sign(new TextEncoder().encode(options.secret ?? TEST_SECRET));
}

/** A valid ChatMessage of `roomId`, created at `atMs` (what the sync layer stores as last_message). */
export function chatMessage(roomId: string, sender: User, atMs: number, content = 'hello'): ChatMessage {
  return {
    id: uuidv7(atMs),
    room_id: roomId,
    sender_id: sender.id,
    sender_name: sender.name,
    message_type: 'text',
    content,
    extra_metadata: {},
    is_deleted: false,
    deleted_at: null,
    is_edited: false,
    reactions: {},
    created_at: toTimestamp(atMs),
    updated_at: toTimestamp(atMs),
    ...PLAIN_CONVERSATION_FIELDS,
  };
}

/** A Directory over a fresh SQLite file (the storage tests). `file` lets a test reopen it. */
export function openTempDirectory(): { db: Db; directory: Directory; file: string; dispose(): void } {
  const tmp = makeTempDir('parley-directory-');
  const file = path.join(tmp.dir, 'parley.db');
  const db = openDatabase(file);
  return {
    db,
    directory: new Directory(db),
    file,
    dispose() {
      if (db.open) db.close();
      tmp.remove();
    },
  };
}
