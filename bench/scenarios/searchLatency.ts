import { type ChildServer, startChildServer, stopChildServer } from '../../test/support/childServer.ts';
import { makeTempDir } from '../../test/support/tempDir.ts';
import { openDatabase } from '../../server/storage/openDatabase.ts';
import { SearchRepo } from '../../server/search/SearchRepo.ts';
import { openSearchDatabase, searchDbFileOf } from '../../server/search/openSearchDatabase.ts';
import { MessageSearchResultsSchema } from '../../shared/models/messageSearch.ts';
import { Directory } from '../../server/storage/Directory.ts';
import { devLogin } from '../load/parleyApi.ts';
import type { Figure, RunOptions, Scenario } from '../scenario.ts';
import { median, quantile } from '../stats.ts';

/*
 * Message search (issue 18): GET /api/search over HTTP against the compiled server, its defaults,
 * on 1,000,000 indexed messages in 100 rooms the searcher is a member of (quick: 100,000). The
 * index is written through the server's own SearchRepo (what the indexer writes), timed as the
 * indexing throughput of its inserts, 10,000 rows a transaction. Messages are 8 to 20 words drawn
 * from 5,000 made-up words with a Zipf-like skew, so a query's words range from very common (in
 * about 1 message of 6) to rare. Queries: one common word, one rare word, two words, a phrase and a
 * prefix, in turn; 20 results a page, first page, sequential requests on one keep-alive client.
 */

const ROOMS = 100;
const WORDS = 5_000;
const T0 = Date.UTC(2026, 0, 1);

/** A deterministic generator, so every run indexes the same text. */
function prng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const syllables = ['ka', 'lo', 'mi', 'ren', 'ta', 'vo', 'shi', 'den', 'pa', 'ru', 'xe', 'no', 'bel', 'tor', 'gan', 'fi'];
/** Word i of the vocabulary: made up, so no stemming or stop words interfere. */
function word(i: number): string {
  let w = '';
  let n = i + 17;
  do {
    w += syllables[n % syllables.length];
    n = Math.floor(n / syllables.length);
  } while (n > 0);
  return w;
}

const hex = (n: number, width: number): string => n.toString(16).padStart(width, '0');
const v7 = (ms: number, tail: number): string => {
  const time = hex(ms, 12);
  const rand = hex(tail, 15);
  return `${time.slice(0, 8)}-${time.slice(8, 12)}-7${rand.slice(0, 3)}-8${rand.slice(3, 6)}-${rand.slice(6, 15)}000`;
};

const OWNER = { id: '5eed0000-0000-4000-8000-0000000000a1', name: 'Owner' };
const READER = { id: '5eed0000-0000-4000-8000-0000000000b2', name: 'Reader' };

/** The rooms (created through the server's Directory, the reader a member of each) and their indexed messages; returns the index's write time. */
function seed(dataDir: string, total: number): number {
  const db = openDatabase(`${dataDir}/parley.db`);
  const searchDb = openSearchDatabase(searchDbFileOf(`${dataDir}/parley.db`));
  try {
    const directory = new Directory(db);
    directory.users.upsert(OWNER);
    directory.users.upsert(READER);
    const roomIds = Array.from({ length: ROOMS }, (_, r) =>
      directory.createRoom({ name: `room ${r}`, type: 'group', company_id: null, is_active: true, extra_metadata: {}, members: [{ user_id: READER.id, role: 'member' }] }, OWNER.id).id,
    );
    const authorId = OWNER.id;
    const repo = new SearchRepo(searchDb);
    const rand = prng(42);
    // Zipf-like: word rank r drawn with weight ~ 1/r.
    const pick = (): string => word(Math.floor(Math.exp(rand() * Math.log(WORDS))) - 1);
    const started = performance.now();
    const perRoom = Math.ceil(total / roomIds.length);
    for (let done = 0; done < total; ) {
      const batch = Math.min(10_000, total - done);
      repo.transaction(() => {
        for (let i = done; i < done + batch; i++) {
          const roomId = roomIds[Math.floor(i / perRoom)] ?? roomIds[0]!;
          const words = Array.from({ length: 8 + Math.floor(rand() * 13) }, pick);
          repo.put(roomId, { roomId, messageId: v7(T0 + i * 1000, i), senderId: authorId, createdAt: T0 + i * 1000, content: words.join(' ') });
        }
      });
      done += batch;
    }
    return performance.now() - started;
  } finally {
    searchDb.close();
    db.close();
  }
}

const QUERIES: ReadonlyArray<{ kind: string; q: (n: number) => string }> = [
  { kind: 'one common word', q: (n) => word(n % 5) },
  { kind: 'one rare word', q: (n) => word(3_000 + (n % 1_000)) },
  { kind: 'two words', q: (n) => `${word(n % 50)} ${word(100 + (n % 200))}` },
  { kind: 'a phrase', q: (n) => `"${word(n % 20)} ${word(n % 20)}"` },
  { kind: 'a prefix', q: (n) => `${word(200 + (n % 100)).slice(0, 4)}*` },
];

const AnswerSchema = MessageSearchResultsSchema;

async function measure(quick: boolean): Promise<Figure[]> {
  const total = quick ? 100_000 : 1_000_000;
  const reps = quick ? 40 : 200;
  const tmp = makeTempDir('parley-bench-search-');
  const args = ['--dev', '--port', '0', '--data-dir', tmp.dir, '--app-dir', 'off'];
  let server: ChildServer | null = null;
  try {
    const indexMs = seed(tmp.dir, total);
    server = await startChildServer(args);
    const { token } = await devLogin(server.url, READER.name, READER.id);
    const url = server.url;
    const ask = async (q: string): Promise<{ ms: number; results: number }> => {
      const started = performance.now();
      const res = await fetch(`${url}/api/search?q=${encodeURIComponent(q)}&limit=20`, { headers: { authorization: `Bearer ${token}` } });
      const body: unknown = await res.json();
      const ms = performance.now() - started;
      if (!res.ok) throw new Error(`search ${q}: ${res.status} ${JSON.stringify(body)}`);
      return { ms, results: AnswerSchema.parse(body).results.length };
    };
    for (let i = 0; i < 10; i++) await ask(QUERIES[i % QUERIES.length]!.q(i)); // warm-up
    const all: number[] = [];
    const figures: Figure[] = [
      { metric: 'index writes (SearchRepo.put, 10,000 a transaction)', value: Math.round(total / (indexMs / 1000)), unit: 'msg/s', better: 'higher', note: `${total.toLocaleString('en-US')} messages in ${(indexMs / 1000).toFixed(1)} s, synchronous=NORMAL (the seeding tool's), 100 rooms` },
    ];
    for (const { kind, q } of QUERIES) {
      const times: number[] = [];
      let empty = 0;
      for (let n = 0; n < reps; n++) {
        const { ms, results } = await ask(q(n));
        times.push(ms);
        if (results === 0) empty++;
      }
      all.push(...times);
      figures.push(
        { metric: `search, ${kind}: p50`, value: median(times), unit: 'ms', better: 'lower', note: `${reps} queries over HTTP, 20 a page; ${empty} found nothing` },
        { metric: `search, ${kind}: p99`, value: quantile(times, 0.99), unit: 'ms', better: 'lower' },
      );
    }
    figures.push(
      { metric: 'search, all queries: p50', value: median(all), unit: 'ms', better: 'lower', note: `${all.length} queries, ${(total / 1e6).toFixed(1)}M messages in ${ROOMS} rooms, all the searcher's` },
      { metric: 'search, all queries: p99', value: quantile(all, 0.99), unit: 'ms', better: 'lower' },
    );
    return figures;
  } finally {
    if (server) await stopChildServer(server);
    tmp.remove();
  }
}

const searchLatency: Scenario = {
  name: 'searchLatency',
  description: 'message search over HTTP on 1M indexed messages in 100 rooms (quick: 100k): p50/p99 per kind of query, and the index write rate',
  run: (opts: RunOptions) => measure(opts.quick),
};

export default searchLatency;
