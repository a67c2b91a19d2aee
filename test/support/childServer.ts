import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import readline from 'node:readline';

export interface ChildServer {
  child: ChildProcess;
  url: string;
  /** Every line the process printed to stdout so far. */
  stdout: string[];
  /** Resolves with the exit code (or the signal name) once the process has exited. */
  exited: Promise<number | string>;
}

const ROOT = path.resolve(import.meta.dirname, '../..');

/** The compiled CLI, what `npm start` and the installed package run (built by `npm run build:lib`). */
export const COMPILED_CLI = path.join(ROOT, 'dist', 'server', 'cli.js');

/**
 * Runs the compiled `parley serve` in its own process with plain node (no tsx, as an installed
 * package runs) and resolves once it logged that it is listening. Used where a test must kill or
 * signal the real process, and by benchmarks.
 */
export function startChildServer(args: string[], env: Record<string, string> = {}, { fromSource = false }: { fromSource?: boolean } = {}): Promise<ChildServer> {
  if (!fromSource && !existsSync(COMPILED_CLI)) return Promise.reject(new Error(`${COMPILED_CLI} is missing: run \`npm run build:lib\``));
  // From source: the TypeScript CLI through tsx, for tests that need no build.
  const cli = fromSource ? ['--import', 'tsx', path.join(ROOT, 'server', 'cli.ts')] : [COMPILED_CLI];
  const child = spawn(process.execPath, [...cli, 'serve', ...args], {
    cwd: ROOT,
    env: { ...process.env, PARLEY_LOG_LEVEL: 'info', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const stdout: string[] = [];
  const exited = new Promise<number | string>((resolve) => child.once('exit', (code, signal) => resolve(code ?? signal ?? -1)));
  return new Promise((resolve, reject) => {
    const lines = readline.createInterface({ input: child.stdout! });
    let stderr = '';
    child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
    lines.on('line', (line) => {
      stdout.push(line);
      const match = /"msg":"parley listening"/.test(line) ? /"url":"([^"]+)"/.exec(line) : null;
      if (match?.[1]) resolve({ child, url: match[1], stdout, exited });
    });
    void exited.then((code) => reject(new Error(`server exited (${code}) before listening:\n${stderr}`)));
  });
}

/** SIGTERM, then the exit code; SIGKILL (and 'timeout') if the server does not stop within `timeoutMs`. */
export async function stopChildServer(server: ChildServer, timeoutMs = 15_000): Promise<number | string> {
  if (server.child.exitCode !== null || server.child.signalCode !== null) return server.exited;
  server.child.kill('SIGTERM');
  let timer: NodeJS.Timeout | undefined;
  const timedOut = new Promise<'timeout'>((resolve) => (timer = setTimeout(() => resolve('timeout'), timeoutMs)));
  const outcome = await Promise.race([server.exited, timedOut]);
  clearTimeout(timer);
  if (outcome !== 'timeout') return outcome;
  server.child.kill('SIGKILL');
  await server.exited;
  return 'timeout';
}
