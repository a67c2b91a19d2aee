import { readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { openDatabase } from '../storage/openDatabase.ts';
import { startChildServer, stopChildServer, type ChildServer } from '../../test/support/childServer.ts';
import { makeTempDir } from '../../test/support/tempDir.ts';

/*
 * kill -9 of a real server process while an upload streams in: the blob store shows no partial
 * file under a blob's name (only its tmp/, which the next start empties) and SQLite holds no
 * record of the upload.
 */
const tmp = makeTempDir('parley-upload-kill-');
let child: ChildServer | null = null;
afterAll(async () => {
  if (child) await stopChildServer(child);
  tmp.remove();
});

const start = (): Promise<ChildServer> => startChildServer(['--dev', '--port', '0', '--data-dir', tmp.dir], { PARLEY_LOG_LEVEL: 'info' }, { fromSource: true });

/** Files under the blob directory, relative to it. */
function files(): string[] {
  const root = path.join(tmp.dir, 'blobs');
  return readdirSync(root, { recursive: true, withFileTypes: true })
    .filter((d) => d.isFile())
    .map((d) => path.relative(root, path.join(d.parentPath, d.name)));
}

async function post(url: string, route: string, body: unknown, token?: string): Promise<{ token?: string; id?: string }> {
  const res = await fetch(url + route, { method: 'POST', headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) }, body: JSON.stringify(body) });
  if (!res.ok) throw new Error(`${route}: ${res.status}`);
  return (await res.json()) as { token?: string; id?: string };
}

function attachmentRows(): number {
  const db = openDatabase(path.join(tmp.dir, 'parley.db'));
  try {
    return (db.prepare('SELECT count(*) AS n FROM attachments').get() as { n: number }).n;
  } finally {
    db.close();
  }
}

describe('server killed (SIGKILL) during a streaming upload', () => {
  it('leaves no partial blob and no record; the next start sweeps tmp/ and uploads work again', async () => {
    child = await start();
    const { token } = await post(child.url, '/api/auth/dev-login', { name: 'Ana' });
    const { id: roomId } = await post(child.url, '/api/rooms', { name: 'files', type: 'group', members: [] }, token);

    // 2 MiB arrive, then the body stalls: the server holds an unfinished upload in tmp/.
    const chunk = new Uint8Array(64 * 1024).fill(0x42);
    let sent = 0;
    let stall: () => void = () => {};
    const body = new ReadableStream<Uint8Array>({
      async pull(controller) {
        if (sent >= 2 * 1024 * 1024) await new Promise<void>((resolve) => (stall = resolve));
        sent += chunk.byteLength;
        controller.enqueue(chunk);
      },
    });
    const uploading = fetch(`${child.url}/api/rooms/${roomId}/attachments?name=big.bin`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/octet-stream' },
      body,
      duplex: 'half',
    } as RequestInit).catch((err: unknown) => err);
    await expect.poll(() => files().filter((f) => f.startsWith('tmp') && statSync(path.join(tmp.dir, 'blobs', f)).size >= 1024 * 1024).length, { timeout: 20_000 }).toBe(1);

    child.child.kill('SIGKILL');
    expect(await child.exited).toBe('SIGKILL');
    stall();
    expect(await uploading).toBeInstanceOf(Error);
    // Only the unfinished upload in tmp/, never under a blob's name; no record.
    expect(files().every((f) => f.startsWith('tmp'))).toBe(true);
    expect(attachmentRows()).toBe(0);

    child = await start();
    expect(files()).toEqual([]);
    const res = await fetch(`${child.url}/api/rooms/${roomId}/attachments?name=small.txt`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'text/plain' },
      body: 'after the crash',
    });
    expect(res.status).toBe(201);
    expect(attachmentRows()).toBe(1);
  }, 60_000);
});
