import { chownSync, mkdirSync, readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import pg from 'pg';
import { freePort } from './clientHarness.ts';
import { firstExisting, type LocalService, serviceSuiteName, serviceTestsRun, startLocalService, stopLocalService, systemUser } from './localService.ts';
import { makeTempDir } from './tempDir.ts';

/** Debian's PostgreSQL server binaries (package postgresql): the newest version installed, or PG_BIN. */
function binDir(): string | null {
  if (process.env.PG_BIN) return process.env.PG_BIN;
  let versions: string[] = [];
  try {
    versions = readdirSync('/usr/lib/postgresql').sort((a, b) => Number(b) - Number(a));
  } catch {
    return null;
  }
  return firstExisting(versions.map((v) => `/usr/lib/postgresql/${v}/bin`).filter((dir) => firstExisting([path.join(dir, 'postgres')]) !== null));
}

const BIN = binDir();
export const postgresTestsRun = (): boolean => serviceTestsRun(BIN);
export const postgresSuiteName = (name: string): string => serviceSuiteName(name, BIN, 'postgresql');

/** A PostgreSQL cluster of a test's own: a fresh data directory, a free port, trust auth for user `parley`. */
export interface ThrowawayPostgres {
  readonly port: number;
  /** A new, empty database on this cluster; its connection URL. */
  createDatabase(): Promise<string>;
  /** SIGSTOP to every process of the server: it stops answering (connections hang) until resume(). */
  pause(): void;
  resume(): void;
  stop(): Promise<void>;
}

let databases = 0;

/** The processes whose parent is `pid` (Linux: /proc/<n>/stat, the field after the command name). */
function childrenOf(pid: number): number[] {
  const children: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      if (ppid === pid) children.push(Number(entry));
    } catch {
      // The process ended while we looked.
    }
  }
  return children;
}

/**
 * initdb and start a PostgreSQL server in a temp directory. PostgreSQL refuses to run as root, so
 * as root it runs as Debian's `postgres` user, which then owns the directory.
 */
export async function startPostgres(): Promise<ThrowawayPostgres> {
  if (!BIN) throw new Error('no PostgreSQL server binaries under /usr/lib/postgresql: apt-get install -y postgresql (or set PG_BIN)');
  const tmp = makeTempDir('parley-pg-');
  const asUser = process.getuid?.() === 0 ? systemUser('postgres') : null;
  const dataDir = path.join(tmp.dir, 'data');
  const socketDir = path.join(tmp.dir, 'sock');
  mkdirSync(socketDir);
  if (asUser) {
    chownSync(tmp.dir, asUser.uid, asUser.gid);
    chownSync(socketDir, asUser.uid, asUser.gid);
  }
  const spawnAs = asUser ? { uid: asUser.uid, gid: asUser.gid } : {};
  const initdb = await startLocalService(path.join(BIN, 'initdb'), ['-D', dataDir, '-U', 'parley', '-A', 'trust', '-E', 'UTF8', '--locale=C', '--no-sync'], /Success\.|syncing data to disk/, spawnAs);
  await initdb.exited;
  if (initdb.child.exitCode !== 0) throw new Error(`initdb failed:\n${initdb.output()}`);
  const port = await freePort();
  const server: LocalService = await startLocalService(
    path.join(BIN, 'postgres'),
    ['-D', dataDir, '-p', String(port), '-k', socketDir, '-c', 'listen_addresses=127.0.0.1', '-c', 'shared_buffers=32MB', '-c', 'max_connections=200'],
    /database system is ready to accept connections/,
    spawnAs,
  );
  // The postmaster and the processes it forked (a backend per open connection, which PostgreSQL
  // puts in process groups of their own): pausing only the postmaster would leave open connections answering.
  const signalAll = (signal: NodeJS.Signals): void => {
    const pid = server.child.pid;
    if (pid === undefined) return;
    for (const each of [pid, ...childrenOf(pid)]) process.kill(each, signal);
  };
  const url = (db: string): string => `postgres://parley@127.0.0.1:${port}/${db}`;
  return {
    port,
    async createDatabase() {
      const name = `parley_${process.pid}_${++databases}`;
      const admin = new pg.Client({ connectionString: url('postgres') });
      await admin.connect();
      try {
        await admin.query(`CREATE DATABASE ${name}`);
      } finally {
        await admin.end();
      }
      return url(name);
    },
    pause: () => signalAll('SIGSTOP'),
    resume: () => signalAll('SIGCONT'),
    async stop() {
      // SIGINT: PostgreSQL's fast shutdown (disconnects clients, no wait for them to leave).
      await stopLocalService(server, 'SIGINT');
      tmp.remove();
    },
  };
}
