import { readFileSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

/*
 * The layering docs/architecture.md draws, checked on the code: which folder may import which,
 * that the SDK and the protocol stay browser-safe, and that no source file grows past ~350 lines
 * without saying why at its top.
 */

const ROOT = path.resolve(import.meta.dirname, '..');

function sources(dir: string): string[] {
  return readdirSync(path.join(ROOT, dir)).flatMap((name) => {
    const rel = path.join(dir, name);
    if (statSync(path.join(ROOT, rel)).isDirectory()) return sources(rel);
    return rel.endsWith('.ts') && !rel.endsWith('.test.ts') ? [rel] : [];
  });
}

/** Every import specifier of a file, resolved to a repo path when relative. */
function importsOf(file: string): string[] {
  const text = readFileSync(path.join(ROOT, file), 'utf8');
  return [...text.matchAll(/(?:^|\n)\s*(?:import|export)[^'"]*?from\s+['"]([^'"]+)['"]|import\(\s*['"]([^'"]+)['"]\s*\)/g)].map((m) => {
    const spec = (m[1] ?? m[2])!;
    return spec.startsWith('.') ? path.relative(ROOT, path.resolve(path.dirname(path.join(ROOT, file)), spec)) : spec;
  });
}

/** The server folder a path belongs to ('' for the wiring files at server/'s top). */
const serverLayer = (file: string): string | null => (file.startsWith('server/') ? (file.split('/').length > 2 ? file.split('/')[1]! : '') : null);

/** Which server folders each server folder may import; the top-level wiring files may import all. */
const SERVER_LAYERS: Record<string, readonly string[]> = {
  auth: [],
  // Starting worker threads (the storage and search workers): node built-ins only.
  workers: [],
  storage: ['workers'],
  validation: [],
  limits: [],
  // Attachment bytes (docs/attachments.md): node built-ins and zod only, so a store can move to S3.
  blobs: [],
  access: ['storage'],
  feed: ['storage'],
  ws: ['auth', 'storage'],
  sync: ['access', 'auth', 'feed', 'limits', 'storage', 'validation', 'ws'],
  presence: ['storage', 'sync'],
  // Segments sit on the loaded documents (sync) and keep each room's history in bounded pieces.
  segments: ['storage', 'sync', 'ws'],
  // Thread summaries are derived from the loaded documents (sync) and read across segments.
  threads: ['segments', 'sync'],
  commands: ['access', 'auth', 'limits', 'segments', 'storage', 'sync', 'threads', 'ws'],
  // Notifications watch the loaded documents (sync) and keep the webhook's outbox (storage).
  notify: ['storage', 'sync'],
  // Search indexes the loaded documents (sync) into its own file, on its own thread (workers),
  // reading stored documents (storage).
  search: ['storage', 'sync', 'workers'],
  // Attachments (docs/attachments.md): uploads into the blob store, reference tracking of the
  // loaded documents (sync) into their tables (storage), garbage collection.
  attachments: ['blobs', 'storage', 'sync', 'validation'],
  http: ['attachments', 'auth', 'blobs', 'limits', 'presence', 'search', 'storage'],
  // Several nodes (docs/scale-out.md): document leases in Redis, fencing tokens from storage.
  cluster: ['storage'],
  // Routing between nodes (docs/scale-out.md, "Routing"): links to the other nodes, forwarded
  // channels, the internal endpoint that serves them on the owner (sync), owners found in Redis (cluster).
  routing: ['auth', 'cluster', 'storage', 'sync', 'ws'],
  // GET /metrics' series (README, "Metrics"): prom-client, and the group commit's timing channel
  // (sync); every gauge reads a function ParleyServer.ts passes in, and http gets the text the same way.
  metrics: ['sync'],
};

describe('architecture', () => {
  it('server folders import only the layers below them, and nothing imports the wiring files', () => {
    const broken: string[] = [];
    for (const file of sources('server')) {
      const from = serverLayer(file)!;
      for (const target of importsOf(file)) {
        const to = serverLayer(target);
        if (to === null || to === from || from === '') continue;
        if (to === '' && !/^server\/(log|config|packagePaths|EndpointDeps)\.ts$/.test(target)) broken.push(`${file} -> ${target}`);
        else if (to !== '' && !(SERVER_LAYERS[from] ?? []).includes(to)) broken.push(`${file} -> ${target}`);
      }
    }
    expect(broken).toEqual([]);
  });

  it('shared/ imports neither server/ nor client/, nor Node', () => {
    const broken = sources('shared').flatMap((file) => importsOf(file).filter((t) => /^(server|client)\//.test(t) || t.startsWith('node:')).map((t) => `${file} -> ${t}`));
    expect(broken).toEqual([]);
  });

  it('the SDK is browser-safe: client/ imports no Node module and nothing of server/', () => {
    const broken = sources('client').flatMap((file) =>
      importsOf(file)
        .filter((t) => t.startsWith('server/') || t.startsWith('node:') || t === 'ws' || t === 'better-sqlite3')
        .map((t) => `${file} -> ${t}`),
    );
    expect(broken).toEqual([]);
  });

  it('no source file is over 350 lines without a reason written at its top', () => {
    const long = ['server', 'client', 'shared']
      .flatMap(sources)
      .filter((file) => {
        const text = readFileSync(path.join(ROOT, file), 'utf8');
        return text.split('\n').length > 360 && !/Over 350 lines for a reason/.test(text.slice(0, 600));
      });
    expect(long).toEqual([]);
  });
});
