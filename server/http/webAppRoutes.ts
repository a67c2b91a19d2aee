import { existsSync } from 'node:fs';
import path from 'node:path';
import { Hono, type Context, type MiddlewareHandler } from 'hono';
import { serveStatic } from '@hono/node-server/serve-static';
import type { Logger } from '../log.ts';

/** Vite puts content-hashed files here: a changed file gets a new name, so they never need revalidating. */
const HASHED_PREFIX = '/assets/';
const IMMUTABLE = 'public, max-age=31536000, immutable';
/**
 * Everything else (index.html, sw.js, the manifest, registerSW.js) keeps its name across builds,
 * so the browser must revalidate it, or a deploy would never reach a visited app.
 */
const REVALIDATE = 'no-cache';

const notBuilt = (appDir: string): string => `<!doctype html>
<meta charset="utf-8"><title>Parley: web app not built</title>
<body style="font:16px/1.5 system-ui;margin:3rem auto;max-width:40rem">
<h1>The web app is not built</h1>
<p>The sync server is running, but <code>${appDir}</code> holds no <code>index.html</code>.
Run <code>npm run build:app</code> (or <code>npm start</code>, which builds it when missing or stale) and reload.</p>`;

/**
 * Serves the built web app from the sync server's own port, so the app, its service worker, the
 * REST API and the sockets share one origin (a service worker only controls its own origin).
 * GET and HEAD only, never under /api/; anything not found falls through to the API's 404.
 */
export function webAppRoutes(appDir: string, logger: Logger): Hono {
  const app = new Hono();
  if (!existsSync(path.join(appDir, 'index.html'))) {
    logger.warn({ appDir }, 'web app not built: / explains how to build it');
  }
  // Made on first use: serveStatic complains on stderr when its root does not exist yet.
  let files: MiddlewareHandler | null = null;
  const serveFiles = (): MiddlewareHandler =>
    (files ??= serveStatic({
      root: appDir,
      onFound: (filePath: string, c: Context) => {
        const hashed = c.req.path.startsWith(HASHED_PREFIX);
        c.header('Cache-Control', hashed ? IMMUTABLE : REVALIDATE);
        // The name carries the content hash, so it is the file's version. The emoji picker checks
        // its data with a HEAD request and reads the ETag; without one it downloads the data again.
        if (hashed) c.header('ETag', `"${path.basename(filePath)}"`);
        c.header('X-Content-Type-Options', 'nosniff');
      },
    }));
  app.on(['GET', 'HEAD'], '*', async (c, next) => {
    if (c.req.path.startsWith('/api/')) return next();
    // Checked per request, so building the app while the server runs needs no restart.
    if (!existsSync(path.join(appDir, 'index.html'))) {
      return c.req.path === '/' || c.req.path === '/index.html' ? c.html(notBuilt(appDir), 503) : next();
    }
    let missing = false;
    const served = await serveFiles()(c, async () => {
      missing = true;
    });
    return served && !missing ? served : next();
  });
  return app;
}
