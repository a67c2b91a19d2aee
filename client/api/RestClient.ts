import type { z } from 'zod';
import { ApiErrorBodySchema } from '../../shared/errors/errorCodes.ts';
import { ChatMemberListSchema, type ChatMember } from '../../shared/models/chatMember.ts';
import { ChatRoomListSchema, ChatRoomSchema, type ChatRoom, type ChatRoomCreate } from '../../shared/models/chatRoom.ts';
import { PresenceListSchema, UserPresenceSchema, type UserPresence } from '../../shared/models/userPresence.ts';
import { ClientError } from '../errors/ClientError.ts';
import type { TokenProvider } from '../sync/RoomConnection.ts';

export class ApiError extends ClientError {
  readonly status: number;
  readonly apiCode: string;
  constructor(status: number, apiCode: string, message: string) {
    super('api_error', `${status} ${apiCode}: ${message}`);
    this.status = status;
    this.apiCode = apiCode;
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

  constructor(baseUrl: string, getToken: TokenProvider, fetchImpl: typeof fetch = globalThis.fetch.bind(globalThis)) {
    this.#baseUrl = baseUrl.replace(/\/$/, '');
    this.#getToken = getToken;
    this.#fetch = fetchImpl;
  }

  async listRooms(): Promise<ChatRoom[]> {
    return (await this.#call('GET', '/api/rooms', ChatRoomListSchema)).rooms;
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

  async #call<S extends z.ZodType>(method: string, route: string, schema: S, body?: unknown, renew = false): Promise<z.infer<S>> {
    const token = await this.#getToken({ renew });
    let res: Response;
    try {
      res = await this.#fetch(this.#baseUrl + route, {
        method,
        headers: { authorization: `Bearer ${token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      });
    } catch (error) {
      throw new ClientError('network', `${method} ${route}: ${error instanceof Error ? error.message : String(error)}`, error);
    }
    if (res.status === 401 && !renew) return this.#call(method, route, schema, body, true);
    const json: unknown = await res.json().catch(() => null);
    if (!res.ok) {
      const problem = ApiErrorBodySchema.safeParse(json);
      throw problem.success
        ? new ApiError(res.status, problem.data.error.code, problem.data.error.message)
        : new ApiError(res.status, 'unknown', `${method} ${route} failed`);
    }
    const parsed = schema.safeParse(json);
    if (!parsed.success) throw new ClientError('invalid_data', `${method} ${route}: unexpected answer (${parsed.error.issues[0]?.message ?? 'invalid'})`);
    return parsed.data;
  }
}
