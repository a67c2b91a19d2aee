import { afterEach, describe, expect, it } from 'vitest';
import { type WebSocket, WebSocketServer } from 'ws';
import pino from 'pino';
import { CloseCode } from '../../shared/protocol/closeCodes.ts';
import { FlakyProxy } from '../../test/support/flakyProxy.ts';
import { NodeLink } from './NodeLink.ts';

const HEARTBEAT_MS = 100;
const logger = pino({ level: 'silent' });

/**
 * The edge's link to an owner whose process stops answering while its TCP connection stays up (a
 * pause, a partition that drops packets): the heartbeat finds it, and the link's channels are
 * closed with OwnerUnavailable so their clients reopen them and are routed afresh. The owner here
 * is a bare WebSocket server (it answers pings, as every ws server does) behind a proxy that stalls.
 */
describe('NodeLink heartbeat', () => {
  let cleanup: Array<() => Promise<void> | void> = [];
  afterEach(async () => {
    for (const step of cleanup.reverse()) await step();
    cleanup = [];
  });

  async function linkThroughProxy(opts: { autoPong?: boolean } = {}): Promise<{ link: NodeLink; proxy: FlakyProxy; owner: Promise<WebSocket> }> {
    const server = new WebSocketServer({ port: 0, host: '127.0.0.1', autoPong: opts.autoPong ?? true });
    await new Promise<void>((resolve) => server.once('listening', () => resolve()));
    cleanup.push(() => new Promise<void>((resolve) => server.close(() => resolve())));
    const owner = new Promise<WebSocket>((resolve) => server.once('connection', (ws) => resolve(ws)));
    const address = server.address();
    if (address === null || typeof address === 'string') throw new Error('no port');
    const proxy = await FlakyProxy.start({ host: '127.0.0.1', port: address.port });
    cleanup.push(() => proxy.close());
    const link = new NodeLink({ url: `http://127.0.0.1:${proxy.port}`, secret: 'x'.repeat(32), logger, heartbeatMs: HEARTBEAT_MS });
    cleanup.push(() => link.close());
    return { link, proxy, owner };
  }

  const user = { id: '3fa06d4b-8bc5-4fb0-ad84-3e3a4f5a6b04', name: 'Ana' };

  it('keeps a link whose owner answers its pings', async () => {
    const { link, owner } = await linkThroughProxy();
    const closed: number[] = [];
    link.openAs('room', user, { frame: () => {}, closed: (code) => void closed.push(code) });
    const ws = await owner;
    // Three pings answered: three heartbeats passed with the link alive.
    await new Promise<void>((resolve) => {
      let pings = 0;
      ws.on('ping', () => {
        if (++pings === 3) resolve();
      });
    });
    expect(link.lost).toBe(false);
    expect(closed).toEqual([]);
  });

  it('drops a link whose owner stops answering, closing its channels with OwnerUnavailable', async () => {
    const { link, proxy, owner } = await linkThroughProxy();
    const closed = new Promise<{ code: number; reason: string }>((resolve) => link.openAs('room', user, { frame: () => {}, closed: (code, _errorCode, reason) => resolve({ code, reason }) }));
    const ws = await owner;
    await new Promise<void>((resolve) => ws.once('ping', () => resolve()));
    // The owner goes silent: nothing crosses the proxy any more, and nothing breaks either.
    proxy.stall();
    const { code, reason } = await closed;
    expect(code).toBe(CloseCode.OwnerUnavailable);
    expect(reason).toMatch(/did not answer a ping/);
    expect(link.lost).toBe(true);
    proxy.release();
  });

  it("keeps a link whose owner is busy sending (its pong waits behind its frames): any frame from it counts", async () => {
    // An owner that never answers pings but keeps sending, as one whose send buffer is full of first syncs.
    const { link, owner } = await linkThroughProxy({ autoPong: false });
    const closed: number[] = [];
    link.openAs('room', user, { frame: () => {}, closed: (code) => void closed.push(code) });
    const ws = await owner;
    const frames = setInterval(() => ws.send(new Uint8Array([1, 0])), HEARTBEAT_MS / 4);
    try {
      await new Promise<void>((resolve) => {
        let pings = 0;
        ws.on('ping', () => {
          if (++pings === 4) resolve();
        });
      });
      expect(link.lost).toBe(false);
      expect(closed).toEqual([]);
    } finally {
      clearInterval(frames);
    }
  });
});
