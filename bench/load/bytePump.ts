import { type ChildProcess, fork } from 'node:child_process';
import { WebSocketServer } from 'ws';
import { z } from 'zod';
import { FramePacer } from '../../server/ws/FramePacer.ts';
import { lowerHelperThreads } from '../../server/workers/lowerHelperThreads.ts';
import { lowerThreadPriority } from '../../server/workers/lowerThreadPriority.ts';
import { encodeFrame } from '../../shared/protocol/frames.ts';
import { SERVER_CORE, CLIENT_CORE, pinLoad, pinToCore } from './peerServer.ts';

/*
 * The controls of the large-room neighbour benchmark (LRN_CONTROL): a process that does nothing
 * but send the readers the same bytes a Parley server sends them for a segment, cut into the same
 * 16 KiB sync step 2 frames and paced by the same FramePacer (256 KiB a turn). No document is
 * read, decoded or validated, and the Parley server serves the small room alone. What the small
 * room's p99 loses to this is what readers receiving that many bytes cost on this machine,
 * whatever serves them; what Parley loses beyond it is Parley's own. Where the pump runs:
 *   - 'server': on the server's core (core 0) at the priority of a server's main thread (nice 0),
 *     its helper threads lowered as `parley serve` lowers its own: a server that sends as Parley does;
 *   - 'server-low': on the server's core, every thread at nice 19: the least a sender on the
 *     server's core can take from it;
 *   - 'client': on the load generator's core (core 1), every thread at nice 19: the server's core
 *     untouched, only the readers' and the sender's traffic beside the load generator.
 *
 * A connection to `/?bytes=N` is sent N bytes of step 2 payload at once, then left open.
 */

export const PUMP_PLACES = ['server', 'server-low', 'client'] as const;
export type PumpPlace = (typeof PUMP_PLACES)[number];

const FRAME_PAYLOAD = 16 * 1024;
const Ready = z.object({ port: z.number().int() });

export class BytePump {
  readonly #child: ChildProcess;
  readonly port: Promise<number>;

  constructor(place: PumpPlace) {
    this.#child = fork(import.meta.filename, ['--pump', place], { execArgv: ['--import', 'tsx'], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    // Pinned as the servers and the load are, when they are.
    if (this.#child.pid && pinLoad() !== 'none') pinToCore(this.#child.pid, place === 'client' ? CLIENT_CORE : SERVER_CORE);
    this.port = new Promise((resolve, reject) => {
      this.#child.once('message', (raw) => resolve(Ready.parse(raw).port));
      this.#child.once('exit', (code) => reject(new Error(`the byte pump exited (${code})`)));
    });
    // Stopped before it reported its port: nobody waits for it.
    this.port.catch(() => {});
  }

  /** A URL whose connection is sent `bytes` of step 2 payload. */
  async url(bytes: number): Promise<string> {
    return `ws://127.0.0.1:${await this.port}/?bytes=${bytes}`;
  }

  stop(): void {
    this.#child.kill('SIGKILL');
  }
}

if (process.argv.includes('--pump') && process.send) {
  const place = z.enum(PUMP_PLACES).parse(process.argv[process.argv.indexOf('--pump') + 1]);
  const pacer = new FramePacer();
  const server = new WebSocketServer({ host: '127.0.0.1', port: 0, perMessageDeflate: false });
  server.on('connection', (socket, request) => {
    const asked = z.string().regex(/^\d+$/).transform(Number).safeParse(new URL(request.url ?? '/', 'http://pump').searchParams.get('bytes'));
    if (!asked.success) return socket.close(1008, 'bytes: a whole number of bytes to send');
    const bytes = asked.data;
    const frames: Uint8Array[] = [];
    for (let sent = 0; sent < bytes; sent += FRAME_PAYLOAD) frames.push(encodeFrame({ type: 'syncStep2', update: new Uint8Array(Math.min(FRAME_PAYLOAD, bytes - sent)) }));
    pacer.send({ get closed() { return socket.readyState !== socket.OPEN; }, get bufferedBytes() { return socket.bufferedAmount; }, send: (frame) => socket.send(frame) }, frames);
  });
  server.on('listening', () => {
    const address = server.address();
    if (typeof address === 'object' && address) process.send?.({ port: address.port });
  });
  process.on('disconnect', () => process.exit(0));
  await lowerHelperThreads(19);
  if (place !== 'server') lowerThreadPriority(19);
}
