import { spawn, type ChildProcess, type SpawnOptions } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';

/**
 * A database server a test starts for itself (PostgreSQL, Redis) from Debian's packages: a child
 * process on a free port that the test stops, pauses or kills. .ci/run installs the packages;
 * like the browser suites (test/support/chromium.ts), these suites run where the binary exists,
 * and in CI (`CI` set) a missing binary fails them instead of skipping them.
 */
export interface LocalService {
  readonly child: ChildProcess;
  /** Resolves once the process has exited. */
  readonly exited: Promise<void>;
  /** Everything it printed so far (stdout and stderr). */
  output(): string;
}

/** Whether suites that need `binary` run here: it exists, or CI demands it. */
export const serviceTestsRun = (binary: string | null): boolean => binary !== null || Boolean(process.env.CI);

/** A suite's name, carrying why it is skipped when the binary is missing outside CI. */
export const serviceSuiteName = (name: string, binary: string | null, install: string): string =>
  serviceTestsRun(binary) ? name : `${name} (skipped: ${install} is not installed; apt-get install -y ${install})`;

/** The first of `candidates` that exists. */
export const firstExisting = (candidates: readonly string[]): string | null => candidates.find((file) => existsSync(file)) ?? null;

/** uid and gid of a system user (/etc/passwd), for servers that refuse to run as root. */
export function systemUser(name: string): { uid: number; gid: number } | null {
  for (const line of readFileSync('/etc/passwd', 'utf8').split('\n')) {
    const [user, , uid, gid] = line.split(':');
    if (user === name && uid !== undefined && gid !== undefined) return { uid: Number(uid), gid: Number(gid) };
  }
  return null;
}

/**
 * Spawns `command` and resolves once a line of its output matches `ready` (an event, not a
 * poll); rejects with its output if it exits first.
 */
export function startLocalService(command: string, args: readonly string[], ready: RegExp, options: SpawnOptions = {}): Promise<LocalService> {
  const child = spawn(command, args, { ...options, stdio: ['ignore', 'pipe', 'pipe'] });
  let printed = '';
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  return new Promise((resolve, reject) => {
    let seen = false;
    const onData = (data: Buffer): void => {
      printed += data.toString();
      if (!seen && ready.test(printed)) {
        seen = true;
        resolve({ child, exited, output: () => printed });
      }
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', onData);
    child.once('error', reject);
    void exited.then(() => reject(new Error(`${command} exited before it was ready:\n${printed}`)));
  });
}

/** Sends `signal` and waits for the exit; SIGKILL after `timeoutMs`. */
export async function stopLocalService(service: LocalService, signal: NodeJS.Signals = 'SIGTERM', timeoutMs = 10_000): Promise<void> {
  if (service.child.exitCode !== null || service.child.signalCode !== null) return;
  service.child.kill('SIGCONT');
  service.child.kill(signal);
  const timer = setTimeout(() => service.child.kill('SIGKILL'), timeoutMs);
  await service.exited;
  clearTimeout(timer);
}
