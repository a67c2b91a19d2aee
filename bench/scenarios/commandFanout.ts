import { WebSocket } from 'ws';
import * as Y from 'yjs';
import { z } from 'zod';
import type { Actor } from '../../shared/roomDoc/actor.ts';
import { uuidv7 } from '../../shared/ids.ts';
import { createMessage } from '../../shared/roomDoc/messageOps.ts';
import { WebSocketResponseSchema } from '../../shared/commands/webSocketResponse.ts';
import { type ChildServer, startChildServer, stopChildServer } from '../../test/support/childServer.ts';
import { makeTempDir } from '../../test/support/tempDir.ts';
import { createRoom, devLogin, type BenchLogin } from '../load/parleyApi.ts';
import { SyncClient } from '../load/syncClient.ts';
import type { Figure, RunOptions, Scenario } from '../scenario.ts';
import { quantile } from '../stats.ts';

/*
 * The JSON command gateway's fan-out next to the Yjs sync path's, on one server in a child process
 * (its own event loop), with this process as the load generator:
 *
 * - JSON: one command client sends `send_message`; 50 command clients joined to the room each
 *   wait for its `message_created` event. Sample: send -> the LAST listener's event.
 * - Yjs: one y-websocket client writes the same message (createMessage); 50 y-websocket clients
 *   each wait for the update. Sample: send -> the LAST listener's update.
 *
 * Closed loop (one message at a time, the next after the last listener got the previous), after a
 * warm-up. Each listener only parses the frame it receives (JSON.parse + the envelope schema for
 * JSON, nothing for Yjs: the bench SyncClient never applies updates), so the load generator's
 * cost per listener is about the same on both paths. Latencies include that cost, 50 times.
 */

const LISTENERS = 50;
const WARMUP = 30;
const STALL_MS = 30_000;
const SIZES = { quick: 200, full: 2_000 } as const;
const content = (i: number): string => `message ${i} from the command fanout benchmark `.padEnd(80, '.');

const MessageCreatedSchema = z.object({ message: z.object({ id: z.string() }) });

/** A raw command socket: sends commands, reports answers by request_id and message_created events by message id. */
class JsonClient {
  readonly ws: WebSocket;
  readonly opened: Promise<void>;
  readonly failed: Promise<never>;
  #answers = new Map<string, (data: Record<string, unknown>, at: number) => void>();
  #waiting: { id: string; resolve: (at: number) => void } | null = null;
  #nextId = 1;
  #closing = false;

  constructor(url: string, label: string) {
    this.ws = new WebSocket(url, { perMessageDeflate: false });
    this.opened = new Promise((resolve) => this.ws.once('open', () => resolve()));
    let fail: (error: Error) => void = () => {};
    this.failed = new Promise<never>((_, reject) => (fail = reject));
    this.ws.on('close', (code) => this.#closing || fail(new Error(`${label}: closed by the server (${code})`)));
    this.ws.on('error', (e) => this.#closing || fail(new Error(`${label}: ${e.message}`)));
    this.failed.catch(() => {});
    this.ws.on('message', (raw: Buffer) => {
      const at = performance.now();
      const frame = WebSocketResponseSchema.parse(JSON.parse(raw.toString('utf8')));
      if (frame.request_id !== undefined) {
        const answer = this.#answers.get(String(frame.request_id));
        this.#answers.delete(String(frame.request_id));
        if (!frame.success) return fail(new Error(`${label}: ${frame.type} failed: ${frame.error} ${JSON.stringify(frame.data)}`));
        answer?.(frame.data, at);
        return;
      }
      if (frame.type !== 'message_created' || !this.#waiting) return;
      if (MessageCreatedSchema.parse(frame.data).message.id !== this.#waiting.id) return;
      this.#waiting.resolve(at);
      this.#waiting = null;
    });
  }

  /** Sends a command; resolves with its answer's data and arrival time. */
  request(command: string, data: Record<string, unknown>): Promise<{ data: Record<string, unknown>; at: number }> {
    const requestId = `r${this.#nextId++}`;
    return new Promise((resolve) => {
      this.#answers.set(requestId, (d, at) => resolve({ data: d, at }));
      this.ws.send(JSON.stringify({ command, data, request_id: requestId }));
    });
  }

  /** Resolves with the time the message_created event for `id` arrived (register before sending). */
  arrival(id: string): Promise<number> {
    return new Promise((resolve) => (this.#waiting = { id, resolve }));
  }

  close(): void {
    this.#closing = true;
    this.ws.terminate();
  }
}

async function within<T>(work: Promise<T>, failed: readonly Promise<never>[], what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const stalled = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`${what}: nothing for ${STALL_MS / 1000} s`)), STALL_MS)));
  try {
    return await Promise.race([work, stalled, ...failed]);
  } finally {
    clearTimeout(timer);
  }
}

const latency = (label: string, samples: readonly number[], note: string): Figure[] => [
  { metric: `${label}, p50`, value: quantile(samples, 0.5), unit: 'ms', note, better: 'lower' },
  { metric: `${label}, p99`, value: quantile(samples, 0.99), unit: 'ms', note, better: 'lower' },
];

async function jsonRun(server: ChildServer, roomId: string, sender: BenchLogin, listeners: readonly BenchLogin[], messages: number): Promise<Figure[]> {
  const ws = server.url.replace(/^http/, 'ws');
  const url = (l: BenchLogin) => `${ws}/ws/commands?token=${encodeURIComponent(l.token)}`;
  const writer = new JsonClient(url(sender), 'json sender');
  const clients = listeners.map((l, i) => new JsonClient(url(l), `json listener ${i}`));
  const all = [writer, ...clients];
  const failed = all.map((c) => c.failed);
  try {
    await within(Promise.all(all.map((c) => c.opened)), failed, 'json connect');
    await within(Promise.all(clients.map((c) => c.request('join_room', { room_id: roomId }))), failed, 'join_room');
    const fanout: number[] = [];
    const answer: number[] = [];
    for (let i = 0; i < WARMUP + messages; i++) {
      // The message id is the client's (send_message's message_id): listeners can wait for it before the send.
      const messageId = uuidv7();
      const arrivals = clients.map((c) => c.arrival(messageId));
      const start = performance.now();
      const answered = writer.request('send_message', { room_id: roomId, content: content(i), message_id: messageId });
      const [done, ...times] = await within(Promise.all([answered, ...arrivals]), failed, `json message ${i}`);
      if (i < WARMUP) continue;
      answer.push(done.at - start);
      fanout.push(Math.max(...times) - start);
    }
    return [
      ...latency(`json: send_message -> last of ${LISTENERS} listeners' event`, fanout, `${messages} msgs, closed loop`),
      ...latency('json: send_message -> answer (committed)', answer, `${messages} msgs, closed loop`),
    ];
  } finally {
    all.forEach((c) => c.close());
  }
}

async function yjsRun(server: ChildServer, roomId: string, sender: BenchLogin, listeners: readonly BenchLogin[], messages: number): Promise<Figure[]> {
  const ws = server.url.replace(/^http/, 'ws');
  const url = (l: BenchLogin, parley = false) => `${ws}/sync/${roomId}?token=${encodeURIComponent(l.token)}${parley ? '&parley=1' : ''}`;
  const doc = new Y.Doc();
  const writer = new SyncClient({ url: url(sender, true), docName: roomId, protocol: 'y-websocket', doc, applyRemote: true, label: 'yjs sender' });
  let waiting: Array<(at: number) => void> = [];
  const clients = listeners.map(
    (l, i) =>
      new SyncClient({
        url: url(l),
        docName: roomId,
        protocol: 'y-websocket',
        label: `yjs listener ${i}`,
        // Closed loop: the only update arriving while a message is outstanding is that message.
        onUpdate: (_update, at) => waiting[i]?.(at),
      }),
  );
  const all = [writer, ...clients];
  const failed = all.map((c) => c.failed);
  try {
    await within(Promise.all(all.map((c) => c.synced)), failed, 'yjs first sync');
    const actor: Actor = { userId: sender.userId, role: 'owner' };
    const fanout: number[] = [];
    for (let i = 0; i < WARMUP + messages; i++) {
      const arrivals = clients.map((_, j) => new Promise<number>((resolve) => (waiting[j] = resolve)));
      const start = performance.now();
      const result = createMessage(doc, actor, { content: content(i) });
      if (!result.ok) throw new Error(`${result.code}: ${result.message}`);
      const times = await within(Promise.all(arrivals), failed, `yjs message ${i}`);
      waiting = [];
      if (i < WARMUP) continue;
      fanout.push(Math.max(...times) - start);
    }
    return latency(`yjs: createMessage -> last of ${LISTENERS} listeners' update`, fanout, `${messages} msgs, closed loop`);
  } finally {
    await Promise.all(all.map((c) => c.close()));
  }
}

const scenario: Scenario = {
  name: 'commandFanout',
  description: `Server in a child process: send_message over the JSON command gateway to ${LISTENERS} joined listeners, next to the same message over y-websocket to ${LISTENERS} Yjs listeners`,
  async run({ quick }: RunOptions): Promise<Figure[]> {
    const messages = quick ? SIZES.quick : SIZES.full;
    const tmp = makeTempDir('parley-bench-');
    let server: ChildServer | null = null;
    try {
      // A closed loop sends far over the default 50 frames/s per connection: raise the limit.
      server = await startChildServer(['--dev', '--port', '0', '--data-dir', tmp.dir], { PARLEY_RATE_PER_SEC: '1000000', PARLEY_RATE_BURST: '1000000' });
      const url = server.url;
      const sender = await devLogin(url, 'fanout sender');
      const listeners = await Promise.all(Array.from({ length: LISTENERS }, (_, i) => devLogin(url, `fanout listener ${i}`)));
      const newRoom = (name: string) => createRoom(url, sender.token, { name, type: 'group', members: listeners.map((l) => ({ user_id: l.userId })) });
      const json = await jsonRun(server, await newRoom('json fanout'), sender, listeners, messages);
      const yjs = await yjsRun(server, await newRoom('yjs fanout'), sender, listeners, messages);
      const p50 = (figures: Figure[]) => figures[0]?.value ?? Number.NaN;
      return [
        ...json,
        ...yjs,
        { metric: 'json / yjs fan-out latency, p50', value: p50(json) / p50(yjs), unit: 'x', note: 'last listener, closed loop', better: 'lower' },
      ];
    } finally {
      if (server) await stopChildServer(server);
      tmp.remove();
    }
  },
};

export default scenario;
