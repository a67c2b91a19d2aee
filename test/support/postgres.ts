import { chownSync, mkdirSync, readdirSync } from 'node:fs';
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
  /** SIGSTOP: the server stops answering (connections hang) until resume(). */
  pause(): void;
  resume(): void;
  stop(): Promise<void>;
}

let databases = 0;

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
    pause: () => void server.child.kill('SIGSTOP'),
    resume: () => void server.child.kill('SIGCONT'),
    async stop() {
      // SIGINT: PostgreSQL's fast shutdown (disconnects clients, no wait for them to leave).
      await stopLocalService(server, 'SIGINT');
      tmp.remove();
    },
  };
}
