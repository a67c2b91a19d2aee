import * as Y from 'yjs';
import type { Actor } from '../../shared/roomDoc/actor.ts';
import { createMessage } from '../../shared/roomDoc/messageOps.ts';
import { listMessages, listThread } from '../../shared/roomDoc/queries.ts';
import { headMaps } from '../../shared/roomDoc/headMaps.ts';
import { markThreadRead, repliesIn, summarize, threadReadPosition, threadUnreadAfter } from '../../shared/roomDoc/threadOps.ts';
import type { Figure, RunOptions, Scenario } from '../scenario.ts';
import { median, quantile, sample } from '../stats.ts';

/*
 * Thread operations on a 100,000-message room document (issue 17): open a thread of 1,000
 * replies (its newest page, and all of it), reply in it, count unread replies in every thread of
 * the room, page the main timeline past the replies it skips, and rebuild one summary as the
 * server does when a room loads. One document, as a client holds a room not segmented or one
 * segment of a big one (threads span the segments their summaries list: the same reads per
 * segment). Every fifth message is a reply: 1,000 to the big thread, the rest spread over 500.
 */

const ALICE = '0c7f3a1e-58f2-4c8e-9a51-0b0f1c2d3e01';
const BOB = '1d8e4b2f-69a3-4d9f-8b62-1c1e2d3e4f02';
const alice: Actor = { userId: ALICE, role: 'member' };
const bob: Actor = { userId: BOB, role: 'member' };
const T0 = Date.UTC(2026, 0, 1);
const hex = (n: number, width: number): string => n.toString(16).padStart(width, '0');
function v7(ms: number, tail = 0): string {
  const time = hex(ms, 12);
  const rand = hex(tail, 15);
  return `${time.slice(0, 8)}-${time.slice(8, 12)}-7${rand.slice(0, 3)}-8${rand.slice(3, 6)}-${rand.slice(6, 15)}000`;
}

const MESSAGES = 100_000;
const BIG_THREAD = 1_000;
const THREADS = 500;

interface Room {
  readonly doc: Y.Doc;
  readonly bigRoot: string;
  readonly roots: string[];
}

function buildRoom(): Room {
  const doc = new Y.Doc();
  const roots: string[] = [];
  let bigRoot = '';
  let bigReplies = 0;
  doc.transact(() => {
    for (let i = 0; i < MESSAGES; i++) {
      const reply = i % 5 === 4 && roots.length > 0;
      const toBig = reply && bigReplies < BIG_THREAD && i % 10 === 9;
      const parentId = !reply ? undefined : toBig ? bigRoot : roots[(i * 7) % roots.length];
      const result = createMessage(doc, i % 3 === 0 ? bob : alice, {
        id: v7(T0 + i * 1000, i),
        content: `message ${i} `.padEnd(80, '.'),
        now: T0 + MESSAGES * 1000,
        ...(parentId === undefined ? {} : { parentId }),
      });
      if (!result.ok) throw new Error(`${result.code}: ${result.message}`);
      if (toBig) bigReplies++;
      if (!reply && roots.length < THREADS && i % 200 === 0) roots.push(result.id);
      if (i === 0) bigRoot = result.id;
    }
  });
  if (bigReplies < BIG_THREAD) throw new Error(`the big thread got ${bigReplies} replies`);
  for (const root of roots) headMaps(doc).threads.set(root, summarize(repliesIn(doc, root), []));
  return { doc, bigRoot, roots };
}

const µs = (ms: number): number => ms * 1_000;
const latency = (metric: string, times: readonly number[], note: string): Figure[] => [
  { metric: `${metric}, median`, value: µs(median(times)), unit: 'µs', note },
  { metric: `${metric}, p99`, value: µs(quantile(times, 0.99)), unit: 'µs', note },
];

function measure(quick: boolean): Figure[] {
  const reps = quick ? 200 : 2_000;
  const built = performance.now();
  const { doc, bigRoot, roots } = buildRoom();
  const figures: Figure[] = [{ metric: 'build and index the 100k room', value: performance.now() - built, unit: 'ms' }];
  let sink = 0;
  figures.push(...latency('open a thread of 1,000 replies: newest 50', sample(reps, 10, () => (sink += listThread(doc, bigRoot, { limit: 50 }).messages.length)), `${reps} reps`));
  figures.push(...latency('open a thread of 1,000 replies: all 1,000', sample(Math.ceil(reps / 10), 2, () => (sink += listThread(doc, bigRoot, { limit: 1_000 }).messages.length)), `${Math.ceil(reps / 10)} reps`));
  let n = 0;
  figures.push(
    ...latency(
      'reply in the thread (createMessage with parentId)',
      sample(reps, 10, () => {
        n++;
        const result = createMessage(doc, alice, { id: v7(T0 + (MESSAGES + n) * 1000), content: `reply ${n}`, parentId: bigRoot, now: T0 + (MESSAGES + n) * 1000 });
        if (!result.ok) throw new Error(result.message);
      }),
      `${reps} replies`,
    ),
  );
  const middle = listThread(doc, bigRoot, { limit: BIG_THREAD }).messages[BIG_THREAD / 2]?.id ?? '';
  markThreadRead(doc, alice, bigRoot, middle);
  figures.push(
    ...latency(
      `count unread replies in all ${roots.length} threads`,
      sample(Math.ceil(reps / 10), 2, () => {
        for (const root of roots) sink += threadUnreadAfter([doc], root, threadReadPosition(doc, root, ALICE), ALICE);
      }),
      'threadReadPosition + threadUnreadAfter per thread',
    ),
  );
  figures.push(...latency('rebuild the summary of the 1,000-reply thread', sample(Math.ceil(reps / 10), 2, () => (sink += summarize(repliesIn(doc, bigRoot), []).replyCount)), 'summarize(repliesIn)'));
  figures.push(...latency('main timeline page of 50 (skipping thread-only replies)', sample(reps, 10, () => (sink += listMessages(doc, { limit: 50 }).messages.length)), `${reps} reps`));
  if (sink < 0) throw new Error('unreachable');
  doc.destroy();
  return figures;
}

const threadOps: Scenario = {
  name: 'threadOps',
  description: 'Thread operations on a 100k-message room document: open a 1,000-reply thread, reply, unread per thread, rebuild a summary',
  run: (opts: RunOptions) => Promise.resolve(measure(opts.quick)),
};

export default threadOps;
