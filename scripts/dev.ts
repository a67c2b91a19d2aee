import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/*
 * `npm run dev`: the sync server (restarted by tsx on server changes, dev login on) plus Vite's dev
 * server with hot reload, which proxies /api, /sync and /ws to it (vite.config.ts). Open the URL
 * Vite prints. Ctrl-C stops both; if either exits, the other is stopped too.
 */

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const port = process.env.PORT ?? '8787';
const bin = (pkg: string, file: string) => path.join(ROOT, 'node_modules', pkg, file);

const children: ChildProcess[] = [
  spawn(process.execPath, [bin('tsx', 'dist/cli.mjs'), 'watch', 'server/cli.ts', 'serve', '--dev', '--port', port, '--app-dir', 'off'], {
    cwd: ROOT,
    stdio: 'inherit',
  }),
  spawn(process.execPath, [bin('vite', 'bin/vite.js')], {
    cwd: ROOT,
    stdio: 'inherit',
    env: { ...process.env, PARLEY_DEV_SERVER: `http://127.0.0.1:${port}` },
  }),
];

let exitCode = 0;
const stopAll = (signal: NodeJS.Signals) => {
  for (const child of children) if (child.exitCode === null) child.kill(signal);
};
for (const child of children) {
  child.on('exit', (code) => {
    exitCode ||= code ?? 0;
    stopAll('SIGTERM');
    if (children.every((c) => c.exitCode !== null || c.signalCode !== null)) process.exit(exitCode);
  });
}
process.on('SIGINT', () => stopAll('SIGINT'));
process.on('SIGTERM', () => stopAll('SIGTERM'));
