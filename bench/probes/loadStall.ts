import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import * as Y from 'yjs';
import WebSocket from 'ws';
import { createParleyServer } from '../../server/ParleyServer.ts';
import { openDatabase } from '../../server/storage/openDatabase.ts';
import { SqliteUpdateStore } from '../../server/storage/SqliteUpdateStore.ts';
import { createMessage } from '../../shared/roomDoc/messageOps.ts';
import { decodeServerFrame, encodeFrame } from '../../shared/protocol/frames.ts';
import { roomMaps } from '../../shared/roomDoc/layout.ts';

/*
 * Does loading a big room stall the server? A room of N messages (default 100,000, about 27 MB)
 * is stored, then a bare client asks a fresh server for the whole room (sync step 1 with an empty
 * state vector, the reply not applied) while the process's event-loop delay, the server's, is
 * sampled every millisecond. Run once with the default
 * PARLEY_SLICED_LOAD_BYTES (1 MiB: the room loads in slices) and once with it at its maximum
 * (the room loads at once, as before). Loaded in slices, the joiner's whole-room reply is the
 * slices themselves; loaded at once, it is one step 2 encoded on the main thread, in that maximum.
 * Usage: npx tsx bench/probes/loadStall.ts [N]   (prints one JSON line per mode, and writes them to bench/results/)
 */

const N = Number(process.argv[2] ?? 100_000);
const dir = mkdtempSync(path.join(tmpdir(), 'parley-load-stall-'));
const devLogin = async (url: string): Promise<{ token: string; user: { id: string } }> =>
  (await (await fetch(`${url}/api/auth/dev-login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ name: 'Ana' }) })).json()) as { token: string; user: { id: string } };

// Seed: a room created over REST by Ana, then N messages written straight into its stored log.
let roomId = '';
{
  const server = createParleyServer({ dataDir: dir, devLogin: true, logLevel: 'silent', appDir: null });
  const { url } = await server.listen(0, '127.0.0.1');
  const { token, user } = await devLogin(url);
  const room = (await (await fetch(`${url}/api/rooms`, { method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body: JSON.stringify({ type: 'group', name: 'big' }) })).json()) as { id: string };
  roomId = room.id;
  await server.close();
  const db = openDatabase(path.join(dir, 'parley.db'));
  const doc = new Y.Doc();
  roomMaps(doc);
  for (let i = 0; i < N; i++) createMessage(doc, { userId: user.id, role: 'owner' }, { content: `message ${i} `.padEnd(80, 'x') });
  new SqliteUpdateStore(db).append([{ roomId, update: Y.encodeStateAsUpdate(doc) }], [{ roomId, clientId: doc.clientID, userId: user.id }]);
  db.close();
}

const results = [];
for (const [mode, slicedLoadAboveBytes] of [
  ['in slices (default)', 1024 * 1024],
  ['at once', Number.MAX_SAFE_INTEGER],
] as const) {
  const server = createParleyServer({ dataDir: dir, devLogin: true, logLevel: 'silent', appDir: null, slicedLoadAboveBytes });
  const { url } = await server.listen(0, '127.0.0.1');
  const { token } = await devLogin(url);
  const delay = monitorEventLoopDelay({ resolution: 1 });
  delay.enable();
  const started = performance.now();
  // A bare client that asks for everything and does not apply it: the delay measured is the server's.
  const ws = new WebSocket(`${url.replace('http', 'ws')}/sync/${roomId}?token=${token}`);
  ws.binaryType = 'nodebuffer';
  const firstStep2FrameBytes = await new Promise<number>((resolve, reject) => {
    ws.on('open', () => ws.send(encodeFrame({ type: 'syncStep1', stateVector: Y.encodeStateVector(new Y.Doc()) })));
    ws.on('message', (data: Buffer) => {
      const decoded = decodeServerFrame(new Uint8Array(data.buffer, data.byteOffset, data.byteLength));
      if (decoded.ok && decoded.frame?.type === 'syncStep2') resolve(decoded.frame.update.byteLength);
    });
    ws.on('error', reject);
  });
  const syncedMs = performance.now() - started;
  delay.disable();
  ws.close();
  await server.close();
  results.push({ probe: 'loadStall', mode, messages: N, firstStep2FrameBytes, joinerHasFirstStep2FrameMs: Math.round(syncedMs), eventLoopDelayMaxMs: Number((delay.max / 1e6).toFixed(1)), eventLoopDelayP99Ms: Number((delay.percentile(99) / 1e6).toFixed(1)) });
  console.log(JSON.stringify(results.at(-1)));
}
const out = path.resolve(import.meta.dirname, '..', 'results');
mkdirSync(out, { recursive: true });
writeFileSync(path.join(out, `loadStall-${new Date().toISOString().replace(/[:.]/g, '')}.json`), JSON.stringify(results, null, 2) + '\n');
rmSync(dir, { recursive: true, force: true });
