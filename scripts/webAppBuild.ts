import { execFile } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

/*
 * Builds the web app with Vite when its build is missing or older than its sources, so
 * `npm start` on a fresh clone (or after a pull) serves the app that matches the code.
 * Usage: tsx scripts/webAppBuild.ts [--if-stale]
 */

const ROOT = fileURLToPath(new URL('..', import.meta.url));
export const WEB_APP_OUT_DIR = path.join(ROOT, 'dist', 'app');
/** What the bundle is made of: the app and SDK, the shared schemas, and the build's own config. */
const SOURCES = ['client', 'shared', 'vite.config.ts', 'package-lock.json'];

function newestMtime(entry: string): number {
  const stats = statSync(entry, { throwIfNoEntry: false });
  if (!stats) return 0;
  if (!stats.isDirectory()) return stats.mtimeMs;
  let newest = stats.mtimeMs;
  for (const child of readdirSync(entry)) newest = Math.max(newest, newestMtime(path.join(entry, child)));
  return newest;
}

/** True when dist/app/index.html (rewritten by every build) is missing or older than any source file. */
export function webAppIsStale(): boolean {
  const built = statSync(path.join(WEB_APP_OUT_DIR, 'index.html'), { throwIfNoEntry: false });
  if (!built) return true;
  return SOURCES.some((source) => newestMtime(path.join(ROOT, source)) > built.mtimeMs);
}

/** Runs `vite build` in a child process (its own module graph and memory, not the caller's). */
export async function buildWebApp(): Promise<void> {
  const vite = path.join(ROOT, 'node_modules', 'vite', 'bin', 'vite.js');
  await promisify(execFile)(process.execPath, [vite, 'build', '--logLevel', 'warn'], { cwd: ROOT, maxBuffer: 64 * 1024 * 1024 });
}

export async function buildWebAppIfStale(): Promise<boolean> {
  if (!webAppIsStale()) return false;
  await buildWebApp();
  return true;
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const ifStale = process.argv.includes('--if-stale');
  const started = performance.now();
  try {
    const built = ifStale ? await buildWebAppIfStale() : (await buildWebApp(), true);
    console.log(built ? `web app built into ${WEB_APP_OUT_DIR} in ${Math.round(performance.now() - started)} ms` : `web app is up to date (${WEB_APP_OUT_DIR})`);
  } catch (err) {
    const output = err instanceof Error && 'stderr' in err ? String(err.stderr) : String(err);
    console.error(`web app build failed:\n${output}`);
    process.exit(1);
  }
}
