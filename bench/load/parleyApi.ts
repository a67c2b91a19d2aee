import type { z } from 'zod';
import { DevLoginResponseSchema } from '../../shared/models/user.ts';
import { ChatRoomCreateSchema, ChatRoomSchema } from '../../shared/models/chatRoom.ts';

/*
 * The few REST calls benchmarks make to a Parley server, each answer parsed by the shared schema
 * (a benchmark that misreads a response must fail, not measure the wrong thing).
 */

async function postJson<S extends z.ZodType>(baseUrl: string, route: string, body: unknown, schema: S, token?: string): Promise<z.infer<S>> {
  const res = await fetch(baseUrl + route, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(token === undefined ? {} : { authorization: `Bearer ${token}` }) },
    body: JSON.stringify(body),
  });
  const text = await res.text();
  if (!res.ok) throw new Error(`POST ${route}: ${res.status} ${text}`);
  return schema.parse(JSON.parse(text));
}

export interface BenchLogin {
  readonly token: string;
  readonly userId: string;
}

/** Dev login (the server must run with --dev); `userId` picks the id (a seeded history's author). */
export async function devLogin(baseUrl: string, name: string, userId?: string): Promise<BenchLogin> {
  const body = userId === undefined ? { name } : { name, user_id: userId };
  const { token, user } = await postJson(baseUrl, '/api/auth/dev-login', body, DevLoginResponseSchema);
  return { token, userId: user.id };
}

/** Creates a room as the token's user (its owner); returns its id. */
export async function createRoom(baseUrl: string, token: string, input: z.input<typeof ChatRoomCreateSchema>): Promise<string> {
  return (await postJson(baseUrl, '/api/rooms', input, ChatRoomSchema, token)).id;
}
