import { execFile } from 'node:child_process';
import { readdirSync, rmSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

/*
 * Builds the package: the library (tsc: JavaScript and declarations for parley/client,
 * parley/server, parley/protocol and the `parley` CLI into dist/) and the web app (Vite, into
 * dist/app). `--if-stale` builds only the parts older than their sources, so `npm start` on a
 * fresh clone (or after a pull) runs the code as it is, and costs nothing when nothing changed.
 * Usage: tsx scripts/build.ts [--if-stale] [--lib | --app]
 */

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const run = promisify(execFile);

interface Part {
  readonly name: string;
  /** A file every build rewrites: its age is the build's. */
  readonly marker: string;
  readonly sources: readonly string[];
  build(): Promise<void>;
}

export const WEB_APP_OUT_DIR = path.join(ROOT, 'dist', 'app');
/** What the library is compiled into: emptied first, so a moved or deleted source leaves nothing behind. */
const LIBRARY_OUT_DIRS = ['client', 'server', 'shared'].map((dir) => path.join(ROOT, 'dist', dir));

const library: Part = {
  name: 'library',
  marker: path.join(ROOT, 'dist', 'server', 'cli.js'),
  sources: ['server', 'shared', 'client', 'tsconfig.json', 'tsconfig.build.json', 'package-lock.json'],
  async build() {
    for (const dir of LIBRARY_OUT_DIRS) rmSync(dir, { recursive: true, force: true });
    await run(process.execPath, [path.join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', 'tsconfig.build.json'], { cwd: ROOT, maxBuffer: 64 * 1024 * 1024 });
  },
};

const webApp: Part = {
  name: 'web app',
  marker: path.join(WEB_APP_OUT_DIR, 'index.html'),
  // The bundle is made of the app and SDK, the shared schemas, and the build's own config and script.
  sources: ['client', 'shared', 'vite.config.ts', 'package-lock.json', 'scripts/build.ts'],
  async build() {
    // In a child process: its own module graph and memory, not the caller's. Always a production
    // build: Vite resolves packages for NODE_ENV, and under vitest (NODE_ENV=test) lit came in its
    // development build (warnings, extra checks), which then served `npm start` and the
    // benchmarks: the web app's scroll dropped about 2.7 times as many frames.
    await run(process.execPath, [path.join(ROOT, 'node_modules', 'vite', 'bin', 'vite.js'), 'build', '--logLevel', 'warn'], {
      cwd: ROOT,
      maxBuffer: 64 * 1024 * 1024,
      env: { ...process.env, NODE_ENV: 'production' },
    });
  },
};

function newestMtime(entry: string): number {
  const stats = statSync(entry, { throwIfNoEntry: false });
  if (!stats) return 0;
  if (!stats.isDirectory()) return stats.mtimeMs;
  let newest = stats.mtimeMs;
  for (const child of readdirSync(entry)) newest = Math.max(newest, newestMtime(path.join(entry, child)));
  return newest;
}

function isStale(part: Part): boolean {
  const built = statSync(part.marker, { throwIfNoEntry: false });
  if (!built) return true;
  return part.sources.some((source) => newestMtime(path.join(ROOT, source)) > built.mtimeMs);
}

async function buildIfStale(part: Part): Promise<boolean> {
  if (!isStale(part)) return false;
  await part.build();
  return true;
}

export const buildWebApp = (): Promise<void> => webApp.build();
export const buildWebAppIfStale = (): Promise<boolean> => buildIfStale(webApp);
export const buildLibraryIfStale = (): Promise<boolean> => buildIfStale(library);

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const args = process.argv.slice(2);
  const ifStale = args.includes('--if-stale');
  const parts = args.includes('--lib') ? [library] : args.includes('--app') ? [webApp] : [library, webApp];
  for (const part of parts) {
    const started = performance.now();
    try {
      const built = ifStale ? await buildIfStale(part) : (await part.build(), true);
      console.log(built ? `${part.name} built in ${Math.round(performance.now() - started)} ms` : `${part.name} is up to date`);
    } catch (err) {
      const output = err instanceof Error && 'stdout' in err ? `${String(err.stdout)}${String((err as { stderr?: unknown }).stderr ?? '')}` : String(err);
      console.error(`${part.name} build failed:\n${output}`);
      process.exit(1);
    }
  }
}
