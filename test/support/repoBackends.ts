import path from 'node:path';
import Database from 'better-sqlite3';
import type pg from 'pg';
import { afterAll, afterEach, beforeAll } from 'vitest';
import { openDatabase, type Db } from '../../server/storage/openDatabase.ts';
import { openPostgres } from '../../server/storage/pg/openPostgres.ts';
import { postgresSuiteName, postgresTestsRun, startPostgres, type ThrowawayPostgres } from './postgres.ts';
import { makeTempDir } from './tempDir.ts';

/** One backend of a repository contract suite. */
export interface RepoBackend<H> {
  /** The suite's name; a skipped backend's carries the reason. */
  readonly name: string;
  readonly runs: boolean;
  /** The suite's harness on a fresh, empty database; closed after the test. */
  open(): Promise<H>;
}

/** A fresh PostgreSQL database: its URL, a pool on it, and more pools (other nodes). */
export interface PostgresDatabase {
  readonly url: string;
  readonly pool: pg.Pool;
  /** Another pool on the same database, as another node has; closed after the test. */
  anotherNode(): Promise<pg.Pool>;
}

/** The SQLite file a backend opened: more connections to it, as another process has. */
export interface SqliteFile {
  readonly file: string;
  /** Another connection to the same file (no migrations run), closed after the test. */
  anotherConnection(options?: Database.Options): Db;
}

/** What a repository contract suite runs on (see repoBackends). */
export interface RepoSuites<H> {
  /** SQLite, then PostgreSQL: the same cases run on both. */
  readonly backends: readonly [RepoBackend<H>, RepoBackend<H>];
  /** PostgreSQL alone (what several nodes on one database do, what SQLite has no counterpart of): opens a fresh database. */
  readonly postgresOnly: RepoBackend<PostgresDatabase>;
}

/**
 * The backends of a repository contract suite (server/storage/*.contract.test.ts): SQLite on a
 * file in a temp directory, and PostgreSQL (one server for the test file, started before its
 * tests; a fresh database for each test). Call it at a test file's top level: it registers the
 * hooks that start and stop the server and close what each test opened.
 */
export function repoBackends<H>(name: string, make: { sqlite(db: Db, file: SqliteFile): H; postgres(pool: pg.Pool, database: PostgresDatabase): H }): RepoSuites<H> {
  let server: ThrowawayPostgres | undefined;
  const opened: Array<() => Promise<void> | void> = [];
  beforeAll(async () => {
    if (postgresTestsRun()) server = await startPostgres();
  }, 60_000);
  afterAll(() => server?.stop());
  afterEach(async () => {
    for (const close of opened.splice(0).reverse()) await close();
  });
  const pool = async (url: string): Promise<pg.Pool> => {
    const opening = await openPostgres(url);
    opened.push(() => opening.end());
    return opening;
  };
  const database = async (): Promise<PostgresDatabase> => {
    if (!server) throw new Error('PostgreSQL did not start');
    const url = await server.createDatabase();
    return { url, pool: await pool(url), anotherNode: () => pool(url) };
  };
  const sqlite: RepoBackend<H> = {
    name: `${name} on SQLite`,
    runs: true,
    async open() {
      const tmp = makeTempDir();
      const file = path.join(tmp.dir, 'parley.db');
      const db = openDatabase(file);
      opened.push(() => {
        db.close();
        tmp.remove();
      });
      const anotherConnection = (options?: Database.Options): Db => {
        const another = new Database(file, options);
        opened.push(() => void another.close());
        return another;
      };
      return make.sqlite(db, { file, anotherConnection });
    },
  };
  const postgres: RepoBackend<H> = {
    name: postgresSuiteName(`${name} on PostgreSQL`),
    runs: postgresTestsRun(),
    async open() {
      const opening = await database();
      return make.postgres(opening.pool, opening);
    },
  };
  return { backends: [sqlite, postgres], postgresOnly: { name: postgresSuiteName(`${name} on PostgreSQL only`), runs: postgresTestsRun(), open: database } };
}
