import type * as Y from 'yjs';
import { z } from 'zod';
import { RoomIdSchema } from '../ids.ts';
import { MessageIdV7Schema } from './layout.ts';

/*
 * A room's history in segments (docs/protocol.md, "Large rooms"). A room is one document, named by
 * its id, until it holds SEGMENT_MAX_MESSAGES messages. Then the server moves every message out
 * into segment documents named `<roomId>:<n>` and the room's own document becomes its head: read
 * positions and the server-written `segments` map, which names each segment, its id range and
 * whether it is sealed. New messages go to the open segment (the newest, and the only one not
 * sealed); everything about a message (edits, deletions, reactions) goes to the segment that
 * holds it. Only the server creates, seals and fills segments, so offline clients never fork them.
 */

/** A segment is sealed (and the next one opened) once it holds this many messages... */
export const SEGMENT_MAX_MESSAGES = 5_000;
/** ...or once it is stored this large. */
export const SEGMENT_MAX_BYTES = 4 * 1024 * 1024;

/** The head's root map of segments: written by the server only (the validator refuses any client write to it). */
export const SEGMENTS_ROOT = 'segments';

/** Between a room id and a segment number in a document name. */
export const SEGMENT_SEPARATOR = ':';

/** More segments than this in one room is a malformed name (10 billion messages). */
const MAX_SEGMENTS = 2_000_000;

/** What a document name names: a room's head (`segment` null) or one of its segments. */
export interface DocRef {
  readonly roomId: string;
  readonly segment: number | null;
}

export const segmentDocName = (roomId: string, n: number): string => `${roomId}${SEGMENT_SEPARATOR}${n}`;

export const docNameOf = ({ roomId, segment }: DocRef): string => (segment === null ? roomId : segmentDocName(roomId, segment));

/** `<roomId>` or `<roomId>:<n>` (n a decimal without leading zeros); anything else is null. */
export function parseDocName(name: string): DocRef | null {
  const at = name.indexOf(SEGMENT_SEPARATOR);
  const roomId = at < 0 ? name : name.slice(0, at);
  if (!RoomIdSchema.safeParse(roomId).success) return null;
  if (at < 0) return { roomId, segment: null };
  const digits = name.slice(at + 1);
  if (!/^(0|[1-9][0-9]{0,6})$/.test(digits)) return null;
  const segment = Number(digits);
  return segment < MAX_SEGMENTS ? { roomId, segment } : null;
}

/** The room a document belongs to: its own name for a head (or any name that is not a segment's), else the segment's room. */
export const roomOfDoc = (docName: string): string => parseDocName(docName)?.roomId ?? docName;

/** A room document's name as stored or sent: a room id, or a room id and a segment number. */
export const DocNameSchema = z.string().refine((name) => parseDocName(name) !== null, { message: 'not a room document name (<roomId> or <roomId>:<n>)' });

/**
 * One entry of the head's `segments` map, under the key `String(n)`. A sealed segment holds the
 * messages with ids in (`last` of the segment before it, `last`]; the open segment holds every id
 * after the newest sealed one's `last`. `first` and `count` describe a sealed segment as it was
 * sealed (late writes re-homed into it later do not move them); the open segment's are null and 0.
 */
export const SegmentEntrySchema = z.strictObject({
  sealed: z.boolean(),
  first: MessageIdV7Schema.nullable(),
  last: MessageIdV7Schema.nullable(),
  count: z.int().nonnegative(),
});
export type SegmentEntry = z.infer<typeof SegmentEntrySchema>;

export interface Segment extends SegmentEntry {
  readonly n: number;
}

/** Set in a head while the server converts it into segments (cleared when the open segment is named). */
export const CONVERTING_KEY = 'converting';

const indexes = new WeakMap<Y.Doc, SegmentIndex>();
const watched = new WeakSet<Y.Doc>();

export const segmentsMap = (doc: Y.Doc): Y.Map<unknown> => doc.getMap<unknown>(SEGMENTS_ROOT);

/**
 * The segments a head names, parsed. A room whose head names none is not segmented: its messages
 * are in the head. Malformed entries (never written by a Parley server) are ignored, and so is
 * everything from the first gap in the numbering on: segments are 0, 1, 2, … with only the last open.
 */
export class SegmentIndex {
  /** Sealed segments, by n (0, 1, 2, …): `sealed[n].n === n`, the numbering has no gap. */
  readonly sealed: readonly Segment[];
  /** The open segment, or null in a room not segmented. */
  readonly open: Segment | null;

  private constructor(sealed: readonly Segment[], open: Segment | null) {
    this.sealed = sealed;
    this.open = open;
  }

  /** The head's index, parsed once and again after each change of its `segments` map (it is read on every commit). */
  static of(head: Y.Doc): SegmentIndex {
    const cached = indexes.get(head);
    if (cached) return cached;
    const index = SegmentIndex.#parse(head);
    indexes.set(head, index);
    if (!watched.has(head)) {
      watched.add(head);
      // Dropped before any observer of the transaction runs: an observer registered ahead of this
      // one (of the segments map or of another type the transaction changed) must not read the old index.
      const map = segmentsMap(head);
      head.on('beforeObserverCalls', (tr: Y.Transaction) => {
        const changed: ReadonlyMap<unknown, unknown> = tr.changed;
        if (changed.has(map)) indexes.delete(head);
      });
    }
    return index;
  }

  static #parse(head: Y.Doc): SegmentIndex {
    const entries = new Map<number, SegmentEntry>();
    for (const [key, raw] of segmentsMap(head)) {
      const parsed = SegmentEntrySchema.safeParse(raw);
      if (parsed.success && /^(0|[1-9][0-9]*)$/.test(key)) entries.set(Number(key), parsed.data);
    }
    const sealed: Segment[] = [];
    for (let n = 0; ; n++) {
      const entry = entries.get(n);
      if (!entry) return new SegmentIndex(sealed, null);
      if (!entry.sealed) return new SegmentIndex(sealed, { n, ...entry });
      if (entry.last === null || (sealed.length > 0 && (sealed.at(-1)?.last ?? '') >= entry.last)) return new SegmentIndex(sealed, null);
      sealed.push({ n, ...entry });
    }
  }

  static readonly EMPTY = new SegmentIndex([], null);

  get segmented(): boolean {
    return this.open !== null;
  }

  /** Segment numbers, newest first. */
  newestFirst(): number[] {
    const all = this.sealed.map((s) => s.n);
    if (this.open) all.push(this.open.n);
    return all.reverse();
  }

  /**
   * The segment a message id belongs in: the first sealed one whose range reaches it, else the
   * open one; null when neither (a room not segmented, or past the sealed ones while converting).
   */
  homeOf(messageId: string): number | null {
    let lo = 0;
    let hi = this.sealed.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      const last = this.sealed[mid]?.last ?? '';
      if (last < messageId) lo = mid + 1;
      else hi = mid;
    }
    return this.sealed[lo]?.n ?? this.open?.n ?? null;
  }

  /**
   * Whether segment `n` may hold messages before `beforeId` (any, when undefined): its range starts
   * right after the `last` of the sealed segment before it, not at its own `first` (a late write
   * re-homed into it may sort before that).
   */
  reachesBefore(n: number, beforeId: string | undefined): boolean {
    const previousLast = this.sealedAt(n - 1)?.last;
    return beforeId === undefined || !previousLast || previousLast < beforeId;
  }

  /** Sealed segment n, or undefined (the open one, or past it). */
  sealedAt(n: number): Segment | undefined {
    return this.sealed[n];
  }

  /** Messages sealed in segments after segment `n` (the open segment's own messages are not counted). */
  sealedCountAfter(n: number): number {
    let count = 0;
    for (const s of this.sealed) if (s.n > n) count += s.count;
    return count;
  }
}
