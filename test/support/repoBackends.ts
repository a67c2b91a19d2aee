import path from 'node:path';
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

/** What a PostgreSQL harness is built on: a pool, and more pools on the same database (other nodes). */
export interface PostgresDatabase {
  readonly url: string;
  readonly pool: pg.Pool;
  /** Another pool on the same database, as another node has; closed after the test. */
  anotherNode(): Promise<pg.Pool>;
}

/**
 * The two backends of a repository contract suite (server/storage/*.contract.test.ts): SQLite on
 * a file in a temp directory, and PostgreSQL (one server for the test file, started before its
 * tests; a fresh database for each test). Call it at a test file's top level: it registers the
 * hooks that start and stop the server and close what each test opened.
 */
export function repoBackends<H>(name: string, make: { sqlite(db: Db): H; postgres(database: PostgresDatabase): H }): [RepoBackend<H>, RepoBackend<H>] {
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
  return [
    {
      name: `${name} on SQLite`,
      runs: true,
      async open() {
        const tmp = makeTempDir();
        const db = openDatabase(path.join(tmp.dir, 'parley.db'));
        opened.push(() => {
          db.close();
          tmp.remove();
        });
        return make.sqlite(db);
      },
    },
    {
      name: postgresSuiteName(`${name} on PostgreSQL`),
      runs: postgresTestsRun(),
      async open() {
        if (!server) throw new Error('PostgreSQL did not start');
        const url = await server.createDatabase();
        return make.postgres({ url, pool: await pool(url), anotherNode: () => pool(url) });
      },
    },
  ];
}
