import { execFile } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { makeTempDir } from '../support/tempDir.ts';

/*
 * The package as an app developer gets it: `npm pack`, installed into an empty project, imported
 * from plain Node ESM (no tsx, no TypeScript), running a server that a stock y-websocket client
 * syncs a message through. The library is built once per run by the global setup.
 */

const ROOT = path.resolve(import.meta.dirname, '../..');
const run = promisify(execFile);
const npm = (args: string[], cwd: string) => run('npm', args, { cwd, maxBuffer: 64 * 1024 * 1024, env: { ...process.env, npm_config_update_notifier: 'false' } });
const versionOf = (pkg: string, dir: string): string =>
  (JSON.parse(readFileSync(path.join(dir, 'node_modules', pkg, 'package.json'), 'utf8')) as { version: string }).version;

/** What the consumer script does with the three entry points; it prints one JSON line. */
const SMOKE = `
import { createParleyServer, CloseCode } from 'parley/server';
import { roomDoc, decodeServerFrame, encodeFrame } from 'parley/protocol';
import { ChatClient } from 'parley/client';
import * as Y from 'yjs';
import { WebsocketProvider } from 'y-websocket';
import WebSocket from 'ws';

const server = createParleyServer({ dataDir: process.argv[2], devLogin: true, logLevel: 'silent', appDir: null });
const { url } = await server.listen(0, '127.0.0.1');
const post = async (route, body, token) => {
  const res = await fetch(url + route, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(token ? { authorization: 'Bearer ' + token } : {}) },
    body: JSON.stringify(body),
  });
  if (!res.ok) throw new Error(route + ' answered ' + res.status + ' ' + (await res.text()));
  return res.json();
};
const { token, user } = await post('/api/auth/dev-login', { name: 'Ana' });
const room = await post('/api/rooms', { type: 'group', name: 'From the package' }, token);
const connect = (doc) => new WebsocketProvider(url.replace('http', 'ws') + '/sync', room.id, doc, { WebSocketPolyfill: WebSocket, params: { token } });
const synced = (provider) => new Promise((resolve) => provider.once('sync', resolve));

const writer = connect(new Y.Doc());
await synced(writer);
const created = roomDoc.createMessage(writer.doc, { userId: user.id, role: 'owner' }, { content: 'hello from an installed package' });
if (!created.ok) throw new Error('createMessage failed: ' + created.code);

const readerDoc = new Y.Doc();
const reader = connect(readerDoc);
const received = await new Promise((resolve) => {
  const check = () => {
    const last = roomDoc.lastMessage(readerDoc);
    if (last) resolve(last.content);
  };
  readerDoc.on('update', check);
  check();
});
writer.destroy();
reader.destroy();
// Destroying the documents stops their awareness timers, so the process can exit.
writer.doc.destroy();
readerDoc.destroy();
await server.close();
const frame = decodeServerFrame(encodeFrame({ type: 'ack', stateVector: new Uint8Array([0]) }));
console.log(JSON.stringify({ received, ackRoundTrip: frame.ok && frame.frame.type, forbidden: CloseCode.Forbidden, client: typeof ChatClient.open }));
`;

const ENTRY_POINTS = ['parley/client', 'parley/server', 'parley/protocol'];

describe('the npm package', () => {
  const tmp = makeTempDir();
  const project = path.join(tmp.dir, 'app');
  let tarball = '';

  beforeAll(async () => {
    const buildError = inject('libraryBuildError');
    if (buildError) throw new Error(`the library failed to build:\n${buildError}`);
    // Built by the global setup; prepack would only find it up to date.
    const { stdout } = await npm(['pack', '--ignore-scripts', '--json', '--pack-destination', tmp.dir], ROOT);
    const [packed] = JSON.parse(stdout) as Array<{ filename: string }>;
    tarball = path.join(tmp.dir, packed!.filename);
    mkdirSync(project);
    writeFileSync(path.join(project, 'package.json'), JSON.stringify({ name: 'consumer', private: true, type: 'module' }));
    // The peers a consumer brings for this script, at the versions Parley pins (one yjs in the tree).
    const peers = ['yjs', 'y-websocket', 'ws'].map((pkg) => `${pkg}@${versionOf(pkg, ROOT)}`);
    // Scripts are skipped for one reason: better-sqlite3 would compile its native addon from
    // source (no prebuilt download is reachable here), about two minutes on two cores. The addon
    // this checkout already compiled (same version, same Node ABI) is copied in instead; every
    // JavaScript file comes from the registry and the tarball as a normal install.
    await npm(['install', tarball, ...peers, '--ignore-scripts', '--prefer-offline', '--no-audit', '--no-fund'], project);
    expect(versionOf('better-sqlite3', project)).toBe(versionOf('better-sqlite3', ROOT));
    const addon = path.join('node_modules', 'better-sqlite3', 'build', 'Release', 'better_sqlite3.node');
    mkdirSync(path.dirname(path.join(project, addon)), { recursive: true });
    copyFileSync(path.join(ROOT, addon), path.join(project, addon));
  }, 240_000);

  afterAll(() => tmp.remove());

  it('ships compiled JavaScript with declarations, the web app and the CLI, and no tsx', () => {
    const installed = path.join(project, 'node_modules', 'parley');
    for (const file of ['dist/client/index.js', 'dist/client/index.d.ts', 'dist/server/index.js', 'dist/server/cli.js', 'dist/shared/protocol/index.d.ts', 'dist/app/index.html']) {
      expect(existsSync(path.join(installed, file)), file).toBe(true);
    }
    expect(readdirSync(path.join(installed, 'dist', 'server')).some((f) => f.endsWith('.ts') && !f.endsWith('.d.ts'))).toBe(false);
    expect(existsSync(path.join(project, 'node_modules', 'tsx'))).toBe(false);
  });

  it('imports every entry point from plain Node ESM', async () => {
    const script = ENTRY_POINTS.map((entry, i) => `import * as m${i} from '${entry}'; console.log('${entry}', Object.keys(m${i}).length);`).join('\n');
    const { stdout } = await run(process.execPath, ['--input-type=module', '-e', script], { cwd: project });
    for (const entry of ENTRY_POINTS) expect(stdout).toMatch(new RegExp(`^${entry} [1-9]\\d*$`, 'm'));
  });

  it('runs a server that a stock WebsocketProvider syncs a message through', async () => {
    writeFileSync(path.join(project, 'smoke.mjs'), SMOKE);
    const { stdout } = await run(process.execPath, ['smoke.mjs', path.join(tmp.dir, 'data')], { cwd: project, timeout: 60_000 });
    expect(JSON.parse(stdout.trim().split('\n').pop()!)).toEqual({
      received: 'hello from an installed package',
      ackRoundTrip: 'ack',
      forbidden: 4403,
      client: 'function',
    });
  });

  it('has a `parley` command that prints its usage', async () => {
    const { stdout } = await run(path.join(project, 'node_modules', '.bin', 'parley'), ['--help'], { cwd: project });
    expect(stdout).toContain('Usage: parley serve [options]');
  });
});
