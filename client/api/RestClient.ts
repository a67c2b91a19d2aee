import type { ServerClock } from './ServerClock.ts';
import type { z } from 'zod';
import { ApiErrorBodySchema } from '../../shared/errors/errorCodes.ts';
import { ChatMemberListSchema, ChatMemberSchema, type ChatMember, type ChatMemberRole } from '../../shared/models/chatMember.ts';
import { ChatRoomListSchema, ChatRoomSchema, MAX_ROOMS_PER_PAGE, type ChatRoom, type ChatRoomCreate, type ChatRoomList } from '../../shared/models/chatRoom.ts';
import { DevLoginResponseSchema, UserListSchema, type DevLoginResponse, type User } from '../../shared/models/user.ts';
import { MessageSearchResultsSchema, type MessageSearchResults } from '../../shared/models/messageSearch.ts';
import { PresenceListSchema, UserPresenceSchema, type UserPresence } from '../../shared/models/userPresence.ts';
import { ClientError } from '../errors/ClientError.ts';
import type { TokenProvider } from '../sync/RoomConnection.ts';

export class ApiError extends ClientError {
  readonly status: number;
  readonly apiCode: string;
  /** The error body's `details` (a 409 on a direct room names the existing one: `{ room_id }`). */
  readonly details: unknown;
  constructor(status: number, apiCode: string, message: string, details?: unknown) {
    super('api_error', `${status} ${apiCode}: ${message}`);
    this.status = status;
    this.apiCode = apiCode;
    this.details = details;
  }
}

/**
 * The REST calls the SDK makes, each answer parsed by its shared zod schema. A 401 renews the
 * token once and retries.
 */
export class RestClient {
  readonly #baseUrl: string;
  readonly #getToken: TokenProvider;
  readonly #fetch: typeof fetch;

  readonly #clock: ServerClock | null;

  constructor(baseUrl: string, getToken: TokenProvider, fetchImpl: typeof fetch = globalThis.fetch.bind(globalThis), clock: ServerClock | null = null) {
    this.#baseUrl = baseUrl.replace(/\/$/, '');
    this.#getToken = getToken;
    this.#fetch = fetchImpl;
    this.#clock = clock;
  }

  /** Every room of the caller, newest activity first, following the pages of GET /api/rooms. */
  async listRooms(): Promise<ChatRoom[]> {
    const rooms = new Map<string, ChatRoom>();
    let cursor: string | null = null;
    do {
      const query = `?limit=${MAX_ROOMS_PER_PAGE}${cursor === null ? '' : `&cursor=${encodeURIComponent(cursor)}`}`;
      const page: ChatRoomList = await this.#call('GET', `/api/rooms${query}`, ChatRoomListSchema);
      // A room whose activity changed between pages may come twice: keep its first place.
      for (const room of page.rooms) if (!rooms.has(room.id)) rooms.set(room.id, room);
      cursor = page.next_cursor;
    } while (cursor !== null);
    return [...rooms.values()];
  }

  room(roomId: string): Promise<ChatRoom> {
    return this.#call('GET', roomPath(roomId), ChatRoomSchema);
  }

  createRoom(input: Partial<ChatRoomCreate> & Pick<ChatRoomCreate, 'type'>): Promise<ChatRoom> {
    return this.#call('POST', '/api/rooms', ChatRoomSchema, input);
  }

  async members(roomId: string): Promise<ChatMember[]> {
    return (await this.#call('GET', `/api/rooms/${encodeURIComponent(roomId)}/members`, ChatMemberListSchema)).members;
  }

  async presence(userIds: readonly string[]): Promise<UserPresence[]> {
    if (userIds.length === 0) return [];
    const query = new URLSearchParams({ user_ids: userIds.join(',') });
    return (await this.#call('GET', `/api/presence?${query}`, PresenceListSchema)).presence;
  }

  setStatus(status: string | null): Promise<UserPresence> {
    return this.#call('PUT', '/api/me/status', UserPresenceSchema, { status });
  }

  addMember(roomId: string, userId: string, role: ChatMemberRole): Promise<ChatMember> {
    return this.#call('POST', `${roomPath(roomId)}/members`, ChatMemberSchema, { user_id: userId, role });
  }

  setMemberRole(roomId: string, userId: string, role: ChatMemberRole): Promise<ChatMember> {
    return this.#call('PATCH', `${roomPath(roomId)}/members/${encodeURIComponent(userId)}`, ChatMemberSchema, { role });
  }

  async removeMember(roomId: string, userId: string): Promise<void> {
    await this.#call('DELETE', `${roomPath(roomId)}/members/${encodeURIComponent(userId)}`, null);
  }

  async leaveRoom(roomId: string): Promise<void> {
    await this.#call('POST', `${roomPath(roomId)}/leave`, null);
  }

  /** PUT /api/rooms/:roomId/mute: the caller's own mute; answers the room as the caller's list shows it. */
  setRoomMuted(roomId: string, muted: boolean): Promise<ChatRoom> {
    return this.#call('PUT', `${roomPath(roomId)}/mute`, ChatRoomSchema, { muted });
  }

  async searchUsers(prefix: string): Promise<User[]> {
    const query = new URLSearchParams({ q: prefix });
    return (await this.#call('GET', `/api/users?${query}`, UserListSchema)).users;
  }

  /** GET /api/search (docs/search.md): one page of the server's matches in the caller's rooms. */
  search(query: { readonly q: string; readonly roomId?: string; readonly limit?: number; readonly cursor?: string | null }, signal?: AbortSignal): Promise<MessageSearchResults> {
    const params = new URLSearchParams({ q: query.q });
    if (query.roomId !== undefined) params.set('room_id', query.roomId);
    if (query.limit !== undefined) params.set('limit', String(query.limit));
    if (query.cursor != null) params.set('cursor', query.cursor);
    return this.#call('GET', `/api/search?${params}`, MessageSearchResultsSchema, undefined, false, true, signal);
  }

  /** POST /api/auth/dev-login: needs no token; the server refuses it unless dev login is on. */
  static async devLogin(baseUrl: string, name: string, fetchImpl: typeof fetch = globalThis.fetch.bind(globalThis)): Promise<DevLoginResponse> {
    const rest = new RestClient(baseUrl, () => '', fetchImpl);
    return rest.#call('POST', '/api/auth/dev-login', DevLoginResponseSchema, { name }, true, false);
  }

  /** `schema` null: an answer with no body (204). */
  async #call<S extends z.ZodType>(method: string, route: string, schema: S, body?: unknown, renew?: boolean, auth?: boolean, signal?: AbortSignal): Promise<z.infer<S>>;
  async #call(method: string, route: string, schema: null, body?: unknown, renew?: boolean, auth?: boolean, signal?: AbortSignal): Promise<void>;
  async #call<S extends z.ZodType>(method: string, route: string, schema: S | null, body?: unknown, renew = false, auth = true, signal?: AbortSignal): Promise<z.infer<S> | void> {
    const token = auth ? await this.#getToken({ renew }) : null;
    let res: Response;
    const sentAt = this.#clock?.local() ?? 0;
    try {
      res = await this.#fetch(this.#baseUrl + route, {
        method,
        headers: { ...(token === null ? {} : { authorization: `Bearer ${token}` }), ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
        ...(signal ? { signal } : {}),
      });
    } catch (error) {
      // The caller's own abort is theirs to see as it is; a timeout or a refused connection is the network.
      if (signal?.aborted) throw signal.reason;
      throw new ClientError('network', `${method} ${route}: ${error instanceof Error ? error.message : String(error)}`, error);
    }
    this.#clock?.observe(res.headers.get('date'), sentAt, this.#clock.local());
    if (res.status === 401 && !renew && auth) return schema === null ? this.#call(method, route, null, body, true, auth, signal) : this.#call(method, route, schema, body, true, auth, signal);
    if (res.ok && schema === null) return;
    const json: unknown = await res.json().catch(() => null);
    if (!res.ok) throw apiErrorOf(res.status, json, `${method} ${route}`);
    if (schema === null) return;
    const parsed = schema.safeParse(json);
    if (!parsed.success) throw new ClientError('invalid_data', `${method} ${route}: unexpected answer (${parsed.error.issues[0]?.message ?? 'invalid'})`);
    return parsed.data;
  }
}

/** The ApiError for a failed answer: its error body parsed (ApiErrorBodySchema), or `unknown` when it has none. */
export function apiErrorOf(status: number, json: unknown, what: string): ApiError {
  const problem = ApiErrorBodySchema.safeParse(json);
  return problem.success
    ? new ApiError(status, problem.data.error.code, problem.data.error.message, problem.data.error.details)
    : new ApiError(status, 'unknown', `${what} failed`);
}

const roomPath = (roomId: string): string => `/api/rooms/${encodeURIComponent(roomId)}`;
