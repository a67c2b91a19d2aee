import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer, type TestUser } from '../../test/support/serverHarness.ts';
import { makeTempDir } from '../../test/support/tempDir.ts';

/** The web app served from the sync server's port: files, cache headers, and what is never served. */

const INDEX = '<!doctype html><title>Parley</title><parley-app></parley-app>';
const ASSET = 'console.log("bundle")';

describe('web app served at /', () => {
  const appDir = makeTempDir('parley-app-');
  let t: TestServer;
  let ana: TestUser;

  beforeAll(async () => {
    fs.mkdirSync(path.join(appDir.dir, 'assets'));
    fs.writeFileSync(path.join(appDir.dir, 'index.html'), INDEX);
    fs.writeFileSync(path.join(appDir.dir, 'sw.js'), 'self.addEventListener("fetch", () => {});');
    fs.writeFileSync(path.join(appDir.dir, 'assets', 'index-3f2a1b.js'), ASSET);
    fs.writeFileSync(path.join(path.dirname(appDir.dir), 'outside-app.txt'), 'secret');
    t = await startTestServer({ PARLEY_APP_DIR: appDir.dir });
    ana = await t.login('Ana');
  });
  afterAll(async () => {
    await t.dispose();
    appDir.remove();
    fs.rmSync(path.join(path.dirname(appDir.dir), 'outside-app.txt'), { force: true });
  });

  it('serves index.html at / and makes the browser revalidate it', async () => {
    const res = await fetch(`${t.url}/`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/html/);
    expect(res.headers.get('cache-control')).toBe('no-cache');
    expect(await res.text()).toBe(INDEX);
  });

  it('serves the service worker with revalidation, so a deploy reaches visited apps', async () => {
    const res = await fetch(`${t.url}/sw.js`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/javascript/);
    expect(res.headers.get('cache-control')).toBe('no-cache');
  });

  it('serves content-hashed assets as immutable', async () => {
    const res = await fetch(`${t.url}/assets/index-3f2a1b.js`);
    expect(res.status).toBe(200);
    expect(res.headers.get('cache-control')).toBe('public, max-age=31536000, immutable');
    expect(res.headers.get('x-content-type-options')).toBe('nosniff');
    expect(await res.text()).toBe(ASSET);
  });

  it('answers HEAD like GET without a body', async () => {
    const res = await fetch(`${t.url}/assets/index-3f2a1b.js`, { method: 'HEAD' });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-length')).toBe(String(ASSET.length));
    // The emoji picker revalidates its data this way: the hashed name is the version.
    expect(res.headers.get('etag')).toBe('"index-3f2a1b.js"');
    expect(await res.text()).toBe('');
  });

  it('answers a missing file with the API 404, not with index.html', async () => {
    const res = await fetch(`${t.url}/assets/missing.js`);
    expect(res.status).toBe(404);
    expect(await res.json()).toMatchObject({ error: { code: 'not_found' } });
  });

  it('never serves a file outside the app directory', async () => {
    for (const probe of ['/../outside-app.txt', '/%2e%2e/outside-app.txt', '/assets/..%2f..%2foutside-app.txt', '/..%5coutside-app.txt']) {
      const res = await fetch(`${t.url}${probe}`);
      expect(res.status, probe).toBe(404);
      expect(await res.text(), probe).not.toContain('secret');
    }
  });

  it('leaves /api to the API: unknown routes stay JSON 404 and POST / is not served', async () => {
    const api = await t.api(ana, 'GET', '/api/no-such-route');
    expect(api.status).toBe(404);
    expect(api.body).toMatchObject({ error: { code: 'not_found' } });
    const post = await fetch(`${t.url}/`, { method: 'POST' });
    expect(post.status).toBe(404);
  });
});

describe('web app not built or turned off', () => {
  it('explains how to build the app when its directory holds no index.html', async () => {
    const empty = makeTempDir('parley-app-');
    const t = await startTestServer({ PARLEY_APP_DIR: path.join(empty.dir, 'not-built') });
    try {
      const res = await fetch(`${t.url}/`);
      expect(res.status).toBe(503);
      expect(await res.text()).toContain('npm run build:app');
      expect((await fetch(`${t.url}/healthz`)).status).toBe(200);
    } finally {
      await t.dispose();
      empty.remove();
    }
  });

  it('serves no app with PARLEY_APP_DIR=off', async () => {
    const t = await startTestServer({ PARLEY_APP_DIR: 'off' });
    try {
      const res = await fetch(`${t.url}/`);
      expect(res.status).toBe(404);
      expect(await res.json()).toMatchObject({ error: { code: 'not_found' } });
    } finally {
      await t.dispose();
    }
  });
});
