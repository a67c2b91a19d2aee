import * as Y from 'yjs';
import type { Actor } from '../../shared/roomDoc/actor.ts';
import { createMessage } from '../../shared/roomDoc/messageOps.ts';
import { lastMessage, listMessages, unreadCount } from '../../shared/roomDoc/queries.ts';
import { markRead } from '../../shared/roomDoc/readOps.ts';
import type { Figure, RunOptions, Scenario } from '../scenario.ts';
import { canCollectGarbage, heapUsedAfterGc, median, quantile, sample, seededRandom } from '../stats.ts';

/*
 * The read path of a large room document on one client: load the stored state, build the index,
 * page through history, take new messages, count unread. The room is built like the large-room
 * test's: messages one second apart, ~80 characters each, every third one from Bob.
 */

const ALICE = '0c7f3a1e-58f2-4c8e-9a51-0b0f1c2d3e01';
const BOB = '1d8e4b2f-69a3-4d9f-8b62-1c1e2d3e4f02';
const alice: Actor = { userId: ALICE, role: 'member' };
const bob: Actor = { userId: BOB, role: 'member' };

/** 2026-01-01T00:00:00Z, as in the tests. */
const T0 = Date.UTC(2026, 0, 1);
const PAGE = 50;

const hex = (n: number, width: number): string => n.toString(16).padStart(width, '0');

/** A deterministic lowercase UUIDv7 for time `ms` (test/roomDoc/fixtures.ts builds them the same way). */
function v7(ms: number, tail = 0): string {
  const time = hex(ms, 12);
  const rand = hex(tail, 15);
  return `${time.slice(0, 8)}-${time.slice(8, 12)}-7${rand.slice(0, 3)}-8${rand.slice(3, 6)}-${rand.slice(6, 15)}000`;
}

interface Sizes {
  readonly messages: number;
  /** Fresh documents loaded (and indexed) for the load figures, after one unmeasured. */
  readonly loads: number;
  readonly pages: number;
  readonly appends: number;
  readonly counts: number;
}

const QUICK: readonly Sizes[] = [{ messages: 100_000, loads: 5, pages: 2_000, appends: 1_000, counts: 200 }];
const FULL: readonly Sizes[] = [
  { messages: 100_000, loads: 10, pages: 10_000, appends: 5_000, counts: 1_000 },
  { messages: 1_000_000, loads: 3, pages: 10_000, appends: 2_000, counts: 30 },
];

/** The encoded state of a room of `n` messages, as a client receives it from storage or the network. */
function encodedRoom(n: number): { update: Uint8Array; ids: string[] } {
  const source = new Y.Doc();
  const ids: string[] = [];
  source.transact(() => {
    for (let i = 0; i < n; i++) {
      const result = createMessage(source, i % 3 === 0 ? bob : alice, {
        id: v7(T0 + i * 1000, i),
        content: `message ${i} `.padEnd(80, '.'),
        now: T0 + n * 1000,
      });
      if (!result.ok) throw new Error(`${result.code}: ${result.message}`);
      ids.push(result.id);
    }
  });
  const update = Y.encodeStateAsUpdate(source);
  source.destroy();
  return { update, ids };
}

const label = (n: number): string => (n >= 1_000_000 ? `${n / 1_000_000}M` : `${n / 1_000}k`);
const µs = (ms: number): number => ms * 1_000;

/** Median and p99 of per-call timings, in µs. */
function latency(metric: string, times: readonly number[], note: string): Figure[] {
  return [
    { metric: `${metric}, median`, value: µs(median(times)), unit: 'µs', note },
    { metric: `${metric}, p99`, value: µs(quantile(times, 0.99)), unit: 'µs', note },
  ];
}

function must<T>(value: T | undefined): T {
  if (value === undefined) throw new Error('unexpected undefined');
  return value;
}

function measure(sizes: Sizes): Figure[] {
  const n = sizes.messages;
  const at = `${label(n)} room`;
  const { update, ids } = encodedRoom(n);
  const figures: Figure[] = [];
  let sink = 0;

  // (a) + (b): each fresh document is loaded, then indexed by its first page; the first is warm-up.
  const loadMs: number[] = [];
  const indexMs: number[] = [];
  for (let r = 0; r <= sizes.loads; r++) {
    const doc = new Y.Doc();
    let start = performance.now();
    Y.applyUpdate(doc, update);
    const loaded = performance.now() - start;
    start = performance.now();
    sink += listMessages(doc, { limit: PAGE }).messages.length;
    const indexed = performance.now() - start;
    if (r > 0) {
      loadMs.push(loaded);
      indexMs.push(indexed);
    }
    doc.destroy();
  }
  const reps = `median of ${sizes.loads} fresh docs`;
  figures.push(
    { metric: `${at}: load (Y.applyUpdate)`, value: median(loadMs), unit: 'ms', note: reps },
    { metric: `${at}: encoded size`, value: update.byteLength / n, unit: 'B/msg', note: `${(update.byteLength / 2 ** 20).toFixed(1)} MiB in all` },
    { metric: `${at}: first listMessages (builds index)`, value: median(indexMs), unit: 'ms', note: reps },
  );

  // (f) The document measured here is the one every later figure uses.
  const before = heapUsedAfterGc();
  const doc = new Y.Doc();
  Y.applyUpdate(doc, update);
  const loadedHeap = heapUsedAfterGc();
  sink += listMessages(doc, { limit: PAGE }).messages.length;
  const indexedHeap = heapUsedAfterGc();
  if (canCollectGarbage) {
    figures.push(
      { metric: `${at}: heap after load`, value: (loadedHeap - before) / n, unit: 'B/msg', note: 'Y.Doc only, after gc' },
      { metric: `${at}: heap of the index`, value: (indexedHeap - loadedHeap) / n, unit: 'B/msg', note: 'RoomIndex, after gc' },
    );
  } else {
    console.warn('roomDocQueries: no global.gc (run node with --expose-gc): heap figures skipped');
  }

  // (c) History pages at random cursors, from a fixed seed so every run reads the same pages.
  const random = seededRandom(0x5eed);
  const cursors = Array.from({ length: sizes.pages + 200 }, () => must(ids[Math.floor(random() * n)]));
  const pageTimes = sample(sizes.pages, 200, (i) => {
    sink += listMessages(doc, { beforeId: must(cursors[i]), limit: PAGE }).messages.length;
  });
  figures.push(...latency(`${at}: listMessages, random beforeId`, pageTimes, `limit ${PAGE}, ${sizes.pages} pages`));

  // (d) A new message arrives and the client shows the newest page.
  let next = n;
  const appendTimes = sample(sizes.appends, 100, () => {
    const ms = T0 + next * 1000;
    const result = createMessage(doc, bob, { id: v7(ms, next), content: `new ${next} `.padEnd(80, '.'), now: ms });
    next++;
    if (!result.ok) throw new Error(result.message);
    sink += listMessages(doc, { limit: PAGE }).messages.length;
  });
  figures.push(...latency(`${at}: createMessage + newest page`, appendTimes, `${sizes.appends} appends`));

  // A late message (an offline client's, synced now) lands in the middle of the history.
  const lateTimes = sample(sizes.appends, 100, (i) => {
    const slot = Math.floor(random() * n);
    const result = createMessage(doc, alice, { id: v7(T0 + slot * 1000 + 500, i), content: `late ${i}`, now: T0 + next * 1000 });
    if (!result.ok) throw new Error(result.message);
    sink += listMessages(doc, { limit: PAGE }).messages.length;
  });
  figures.push(...latency(`${at}: late createMessage (mid-history) + newest page`, lateTimes, `${sizes.appends} inserts`));

  // (e) Room-list figures: the unread badge and the preview line.
  const noneRead = sample(sizes.counts, 10, () => {
    sink += unreadCount(doc, ALICE);
  });
  figures.push(...latency(`${at}: unreadCount, nothing read`, noneRead, 'scans the whole room'));
  // Alice has read all but the newest page.
  const read = markRead(doc, alice, must(listMessages(doc, { limit: PAGE }).messages[0]).id);
  if (!read.ok) throw new Error(read.message);
  const mostRead = sample(sizes.counts * 10, 100, () => {
    sink += unreadCount(doc, ALICE);
  });
  figures.push(...latency(`${at}: unreadCount, ${PAGE - 1} after read position`, mostRead, 'read all but the newest page'));
  const last = sample(10_000, 1_000, () => {
    sink += lastMessage(doc)?.content.length ?? 0;
  });
  figures.push(...latency(`${at}: lastMessage`, last, '10000 calls'));

  doc.destroy();
  if (sink === 0) throw new Error('nothing was read');
  return figures;
}

const scenario: Scenario = {
  name: 'roomDocQueries',
  description: 'One client: load, index, page, append to and count unread in a room document of 100k+ messages',
  async run({ quick }: RunOptions): Promise<Figure[]> {
    return (quick ? QUICK : FULL).flatMap(measure);
  },
};

export default scenario;
