import { afterEach, describe, expect, it } from 'vitest';
import { WebSocket, WebSocketServer } from 'ws';
import { Heartbeat } from './Heartbeat.ts';

const INTERVAL_MS = 40;

/**
 * The heartbeat over real sockets: a socket that answers no ping is dropped at the next beat; one
 * its owner calls alive (a node link sending frames) is kept although it never answers; one that
 * answers is kept.
 */
describe('Heartbeat', () => {
  const cleanups: Array<() => void> = [];
  afterEach(() => {
    for (const cleanup of cleanups.splice(0)) cleanup();
  });

  async function pair(autoPong: boolean): Promise<{ server: WebSocket; client: WebSocket; heartbeat: Heartbeat }> {
    const wss = new WebSocketServer({ port: 0 });
    await new Promise<void>((resolve) => wss.once('listening', resolve));
    const address = wss.address();
    if (address === null || typeof address === 'string') throw new Error('no port');
    const accepted = new Promise<WebSocket>((resolve) => wss.once('connection', resolve));
    const client = new WebSocket(`ws://127.0.0.1:${address.port}`, { autoPong });
    const server = await accepted;
    const heartbeat = new Heartbeat(() => wss.clients, INTERVAL_MS);
    heartbeat.watch(server);
    cleanups.push(() => {
      heartbeat.stop();
      client.terminate();
      wss.close();
    });
    return { server, client, heartbeat };
  }

  const closed = (ws: WebSocket): Promise<void> => new Promise((resolve) => ws.once('close', () => resolve()));
  const pings = (client: WebSocket, n: number): Promise<void> =>
    new Promise((resolve) => {
      let seen = 0;
      client.on('ping', () => ++seen === n && resolve());
    });

  it('drops a socket that answers no ping', async () => {
    const { server, client } = await pair(false);
    await closed(server);
    expect(client.readyState === WebSocket.CLOSING || client.readyState === WebSocket.CLOSED).toBe(true);
  });

  it('keeps a socket that answers, and one its owner calls alive though it never answers', async () => {
    const answering = await pair(true);
    const silent = await pair(false);
    // Alive at every ping: as a link is while frames keep coming from it.
    silent.client.on('ping', () => silent.heartbeat.alive(silent.server));
    await Promise.all([pings(answering.client, 4), pings(silent.client, 4)]);
    expect(answering.server.readyState).toBe(WebSocket.OPEN);
    expect(silent.server.readyState).toBe(WebSocket.OPEN);
  });
});
