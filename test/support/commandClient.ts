import { expect } from 'vitest';
import { WebSocket } from 'ws';
import { CommandAnswerSchemas } from '../../shared/commands/commandAnswers.ts';
import { CommandErrorDataSchema } from '../../shared/commands/commandErrorData.ts';
import type { ChatMessage } from '../../shared/models/chatMessage.ts';
import { WebSocketResponseSchema, type WebSocketResponse } from '../../shared/commands/webSocketResponse.ts';
import { RoomEventTypeSchema } from '../../shared/commands/roomEvent.ts';
import type { CommandType } from '../../shared/commands/webSocketCommand.ts';
import type { TestServer, TestUser } from './serverHarness.ts';

/** The command endpoint's URL for a user on the test server. */
export const commandsUrl = (t: TestServer, token: string): string =>
  `${t.url.replace(/^http/, 'ws')}/ws/commands?token=${encodeURIComponent(token)}`;

/**
 * A JSON command client on a real socket. Every frame it receives is parsed by the shared schema
 * (a frame that does not parse fails the test at once). Answers are matched by request_id;
 * events queue until a test takes them, in arrival order.
 */
export class CommandClient {
  readonly ws: WebSocket;
  /** Every frame received, in order. */
  readonly frames: WebSocketResponse[] = [];
  readonly closed: Promise<{ code: number; reason: string }>;
  /** Events not yet taken by `event()`. */
  readonly #events: WebSocketResponse[] = [];
  readonly #answers = new Map<string | number, (r: WebSocketResponse) => void>();
  #eventWaiters: Array<{ predicate: (r: WebSocketResponse) => boolean; resolve: (r: WebSocketResponse) => void }> = [];
  #frameWaiters: Array<(r: WebSocketResponse) => void> = [];
  #nextId = 1;

  private constructor(ws: WebSocket) {
    this.ws = ws;
    this.closed = new Promise((resolve) => ws.on('close', (code, reason) => resolve({ code, reason: reason.toString() })));
    ws.on('message', (data: Buffer) => {
      const frame = WebSocketResponseSchema.parse(JSON.parse(data.toString('utf8')));
      this.frames.push(frame);
      for (const w of this.#frameWaiters.splice(0)) w(frame);
      if (frame.request_id !== undefined && this.#answers.has(frame.request_id)) {
        const resolve = this.#answers.get(frame.request_id);
        this.#answers.delete(frame.request_id);
        resolve?.(frame);
        return;
      }
      if (!RoomEventTypeSchema.safeParse(frame.type).success || frame.request_id !== undefined) return;
      const waiter = this.#eventWaiters.find((w) => w.predicate(frame));
      if (waiter) {
        this.#eventWaiters = this.#eventWaiters.filter((w) => w !== waiter);
        waiter.resolve(frame);
      } else {
        this.#events.push(frame);
      }
    });
  }

  static open(url: string): Promise<CommandClient> {
    return new Promise((resolve, reject) => {
      const ws = new WebSocket(url);
      const client = new CommandClient(ws);
      ws.once('open', () => resolve(client));
      ws.once('error', reject);
    });
  }

  static connect(t: TestServer, user: TestUser): Promise<CommandClient> {
    return CommandClient.open(commandsUrl(t, user.token));
  }

  /** Sends a command with a fresh request_id; resolves with its answer. */
  request(command: CommandType | string, data: Record<string, unknown> = {}, extra: Record<string, unknown> = {}): Promise<WebSocketResponse> {
    const requestId = `r${this.#nextId++}`;
    const answer = new Promise<WebSocketResponse>((resolve) => this.#answers.set(requestId, resolve));
    this.ws.send(JSON.stringify({ command, data, request_id: requestId, ...extra }));
    return answer;
  }

  /** Sends raw text or bytes; resolves with the next frame received. */
  sendRaw(frame: string | Buffer): Promise<WebSocketResponse> {
    const next = this.nextFrame();
    this.ws.send(frame);
    return next;
  }

  nextFrame(): Promise<WebSocketResponse> {
    return new Promise((resolve) => this.#frameWaiters.push(resolve));
  }

  /** Takes the first queued (or next) event of `type` for which `predicate` holds. */
  event(type: string, predicate: (data: Record<string, unknown>) => boolean = () => true): Promise<WebSocketResponse> {
    const match = (r: WebSocketResponse) => r.type === type && predicate(r.data);
    const index = this.#events.findIndex(match);
    if (index >= 0) return Promise.resolve(this.#events.splice(index, 1)[0] as WebSocketResponse);
    return new Promise((resolve) => this.#eventWaiters.push({ predicate: match, resolve }));
  }

  /** Takes the first queued (or next) event of any type. */
  anyEvent(): Promise<WebSocketResponse> {
    const first = this.#events.shift();
    if (first) return Promise.resolve(first);
    return new Promise((resolve) => this.#eventWaiters.push({ predicate: () => true, resolve }));
  }

  /** Takes the next `n` events of any type, in arrival order. */
  async nextEvents(n: number): Promise<WebSocketResponse[]> {
    const out: WebSocketResponse[] = [];
    while (out.length < n) out.push(await this.anyEvent());
    return out;
  }

  /** Events received and not taken yet. */
  pending(): readonly WebSocketResponse[] {
    return this.#events;
  }

  close(): Promise<{ code: number; reason: string }> {
    this.ws.close();
    return this.closed;
  }
}

/** The answer's data, after checking it is a success of `type`. */
export function answerOk(r: WebSocketResponse, type: string): Record<string, unknown> {
  expect(r, JSON.stringify(r)).toMatchObject({ type, success: true, error: null });
  return r.data;
}

/** The error's message, after checking the answer failed with `code`. */
export function answerFailed(r: WebSocketResponse, type: string, code: string): string {
  expect(r, JSON.stringify(r)).toMatchObject({ type, success: false, error: code });
  return CommandErrorDataSchema.parse(r.data).message;
}

/** Sends a message to `roomId` over the command endpoint and returns the stored ChatMessage. */
export async function sendCommand(c: CommandClient, roomId: string, content: string, extra: Record<string, unknown> = {}): Promise<ChatMessage> {
  const data = answerOk(await c.request('send_message', { room_id: roomId, content, ...extra }), 'send_message');
  return CommandAnswerSchemas.send_message.parse(data).message;
}
