import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as Y from 'yjs';
import type { WebsocketProvider } from 'y-websocket';
import { ApiErrorBodySchema } from '../../shared/errors/errorCodes.ts';
import { createMessage } from '../../shared/roomDoc/messageOps.ts';
import { CommandClient } from '../../test/support/commandClient.ts';
import { samples, sampleValue } from '../../test/support/promText.ts';
import { acknowledged, connectProvider, startTestServer, startWithRoom, synced, type TestServer, type TwoMemberRoom } from '../../test/support/serverHarness.ts';

/*
 * GET /metrics on the real server (port 0, real HTTP and sockets): the Prometheus text format,
 * every series labelled with the node, the gauges and commit counters following a real client,
 * and the operator's switches (a metrics token; PARLEY_METRICS=0).
 */

async function scrape(url: string, authorization?: string): Promise<{ status: number; contentType: string | null; text: string }> {
  const res = await fetch(`${url}/metrics`, { headers: authorization === undefined ? {} : { authorization } });
  return { status: res.status, contentType: res.headers.get('content-type'), text: await res.text() };
}

describe('GET /metrics (default: on, no token)', () => {
  let room: TwoMemberRoom;
  let other: TestServer;
  const providers: WebsocketProvider[] = [];
  beforeAll(async () => {
    room = await startWithRoom({ PARLEY_NODE_ID: 'node-a' });
    // A second server in the same process: its commits must not count on the first.
    other = await startTestServer({ PARLEY_NODE_ID: 'node-b' });
  });
  afterAll(async () => {
    providers.forEach((p) => p.destroy());
    await room.t.dispose();
    await other.dispose();
  });

  it('answers the Prometheus text format without a user token, every series labelled with the node', async () => {
    const res = await scrape(room.t.url);
    expect(res.status).toBe(200);
    expect(res.contentType).toMatch(/^text\/plain; version=0\.0\.4/);
    const all = samples(res.text);
    expect(all.length).toBeGreaterThan(20);
    expect(all.filter((s) => s.labels.node !== 'node-a')).toEqual([]);
    for (const name of ['parley_connections', 'parley_command_connections', 'parley_documents_loaded', 'parley_commits_total', 'parley_committed_updates_total', 'parley_commit_duration_seconds', 'parley_event_loop_delay_seconds']) {
      expect(res.text).toContain(`# HELP ${name} `);
    }
    expect(samples((await scrape(other.url)).text).every((s) => s.labels.node === 'node-b')).toBe(true);
  });

  it('follows a client: its connection, the room it loads, the commit of its message', async () => {
    const { t, ana, roomId } = room;
    const before = (await scrape(t.url)).text;
    const otherBefore = (await scrape(other.url)).text;
    expect(sampleValue(before, 'parley_connections')).toBe(0);

    const doc = new Y.Doc();
    const provider = connectProvider(t, roomId, ana, doc, { parley: true });
    providers.push(provider);
    await synced(provider);
    createMessage(doc, { userId: ana.id, role: 'owner' }, { content: 'counted' });
    await acknowledged(provider);
    const commands = await CommandClient.connect(t, ana);

    const after = (await scrape(t.url)).text;
    expect(sampleValue(after, 'parley_connections')).toBeGreaterThanOrEqual(1);
    expect(sampleValue(after, 'parley_command_connections')).toBeGreaterThanOrEqual(1);
    expect(sampleValue(after, 'parley_documents_loaded')).toBeGreaterThanOrEqual(1);
    const ok = (text: string): number => sampleValue(text, 'parley_commits_total', { outcome: 'ok' });
    expect(ok(after)).toBeGreaterThan(ok(before));
    expect(sampleValue(after, 'parley_committed_updates_total')).toBeGreaterThan(sampleValue(before, 'parley_committed_updates_total'));
    expect(sampleValue(after, 'parley_commit_duration_seconds_count')).toBeGreaterThan(sampleValue(before, 'parley_commit_duration_seconds_count'));
    expect(sampleValue(after, 'parley_commits_total', { outcome: 'failed' })).toBe(0);
    expect(ok((await scrape(other.url)).text)).toBe(ok(otherBefore));

    commands.ws.close();
    await commands.closed;
  });
});

describe('GET /metrics with PARLEY_METRICS_TOKEN', () => {
  const TOKEN = 'metrics-token-0123456789';
  let t: TestServer;
  beforeAll(async () => {
    t = await startTestServer({ PARLEY_METRICS_TOKEN: TOKEN });
  });
  afterAll(() => t.dispose());

  it.each([
    ['no Authorization header', undefined],
    ['a wrong token', 'Bearer metrics-token-0123456788'],
    ['a prefix of the token', 'Bearer metrics-token'],
    ['a user token in place of it', 'Bearer eyJhbGciOiJIUzI1NiJ9.e30.x'],
    ['a header that is no bearer token', `Basic ${TOKEN}`],
  ])('%s: 401 unauthorized in the API\'s error shape', async (_what, authorization) => {
    const res = await scrape(t.url, authorization);
    expect(res.status).toBe(401);
    expect(ApiErrorBodySchema.parse(JSON.parse(res.text)).error.code).toBe('unauthorized');
    expect(res.text).not.toContain(TOKEN);
  });

  it('the right token: 200 and the metrics', async () => {
    const res = await scrape(t.url, `Bearer ${TOKEN}`);
    expect(res.status).toBe(200);
    expect(sampleValue(res.text, 'parley_connections')).toBe(0);
  });
});

describe('PARLEY_METRICS=0', () => {
  let t: TestServer;
  beforeAll(async () => {
    t = await startTestServer({ PARLEY_METRICS: '0' });
  });
  afterAll(() => t.dispose());

  it('/metrics is 404 not_found, and /healthz still answers', async () => {
    const res = await scrape(t.url);
    expect(res.status).toBe(404);
    expect(ApiErrorBodySchema.parse(JSON.parse(res.text)).error.code).toBe('not_found');
    expect((await fetch(`${t.url}/healthz`)).status).toBe(200);
  });
});
