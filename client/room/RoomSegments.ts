import { SEGMENT_MAX_MESSAGES, type Segment, SegmentIndex, segmentDocName, segmentsMap } from '../../shared/roomDoc/segments.ts';
import { messageCount } from '../../shared/roomDoc/queries.ts';
import type { ClientError } from '../errors/ClientError.ts';
import type { RoomConnection } from '../sync/RoomConnection.ts';
import type { RoomReplica } from './RoomReplica.ts';
import { offlineOrStopped } from './segmentReadiness.ts';

/** One segment document open on this device: stored in IndexedDB like a room, synced on its own channel. */
export interface OpenSegment {
  readonly n: number;
  readonly replica: RoomReplica;
  readonly connection: RoomConnection;
  /** Closes it; with `forget`, also deletes what the device stored of it (it syncs again if read again). */
  close(forget?: boolean): Promise<void>;
}

/** Opens a segment document (loads it from the device, connects it); the caller closes it. */
export type SegmentOpener = (docName: string, opts?: { readonly paced?: boolean }) => Promise<OpenSegment>;

/**
 * Sealed segments kept in memory besides the open one and the newest sealed one (about 15,000
 * messages: scrolling back and forth over them opens nothing), least recently read dropped first.
 */
export const OLDER_SEGMENTS_IN_MEMORY = Math.ceil(15_000 / SEGMENT_MAX_MESSAGES);

/**
 * Segments kept on the device per room: those in memory, and the newest KEPT_ON_DEVICE (about
 * 100,000 messages) for offline reading. An older one is deleted from the device when it leaves
 * memory; reading it again syncs it again.
 */
export const KEPT_ON_DEVICE = Math.ceil(100_000 / SEGMENT_MAX_MESSAGES);

/** A page is this many messages: the segment before the open one is kept while the open one holds fewer. */
const PAGE = 50;

/**
 * The segments of a room open in the foreground (shared/roomDoc/segments.ts): none while the room
 * is one document. Once its head names segments, the open segment is kept open (new messages go
 * there), with the newest sealed one while the open one holds less than a page; older segments
 * open when the reader pages back to them (`ensure`) and close again, least recently read first,
 * past OLDER_SEGMENTS_IN_MEMORY. What a closed segment holds stays on the device for offline reading
 * if it is among the newest KEPT_ON_DEVICE; an older one is deleted from the device as it closes.
 */
export class RoomSegments {
  readonly #head: RoomReplica;
  readonly #opener: SegmentOpener;
  readonly #onChange: () => void;
  readonly #onStates: () => void;
  readonly #onError: (error: ClientError) => void;
  readonly #opening = new Map<number, Promise<OpenSegment>>();
  readonly #ready = new Map<number, OpenSegment>();
  readonly #offs = new Map<number, Array<() => void>>();
  /** Sealed segments in the order last read (oldest first). */
  #lastRead: number[] = [];
  #index: SegmentIndex;
  #closed = false;
  readonly #offHead: () => void;

  constructor(deps: { head: RoomReplica; opener: SegmentOpener; onChange: () => void; onStates: () => void; onError: (error: ClientError) => void }) {
    this.#head = deps.head;
    this.#opener = deps.opener;
    this.#onChange = deps.onChange;
    this.#onStates = deps.onStates;
    this.#onError = deps.onError;
    this.#index = SegmentIndex.of(deps.head.doc);
    const map = segmentsMap(deps.head.doc);
    const onSegments = (): void => this.#indexChanged();
    map.observe(onSegments);
    this.#offHead = () => map.unobserve(onSegments);
    this.#keepNewest();
  }

  get index(): SegmentIndex {
    return this.#index;
  }

  get segmented(): boolean {
    return this.#index.segmented;
  }

  /** Segment n if it is open on this device now, else null. */
  opened(n: number): OpenSegment | null {
    return this.#ready.get(n) ?? null;
  }

  replica(n: number): RoomReplica | null {
    return this.#ready.get(n)?.replica ?? null;
  }

  /** The open segments, newest first. */
  ready(): OpenSegment[] {
    return [...this.#ready.values()].sort((a, b) => b.n - a.n);
  }

  /** Opens segment n (from the device at once, then synced), and counts it as just read. */
  ensure(n: number): Promise<OpenSegment> {
    this.#touch(n);
    const ready = this.#ready.get(n);
    if (ready) return Promise.resolve(ready);
    let opening = this.#opening.get(n);
    if (!opening) {
      opening = this.#open(n);
      this.#opening.set(n, opening);
      opening.then(
        () => this.#opening.delete(n),
        () => this.#opening.delete(n),
      );
    }
    return opening;
  }

  /** The sealed segments that are not open on this device (their counts stand in for them), newest first. */
  unopened(): Segment[] {
    return this.#index.sealed.filter((s) => !this.#ready.has(s.n)).reverse();
  }

  async close(): Promise<void> {
    this.#closed = true;
    this.#offHead();
    const opening = await Promise.allSettled(this.#opening.values());
    const all = new Map(this.#ready);
    for (const r of opening) if (r.status === 'fulfilled') all.set(r.value.n, r.value);
    this.#ready.clear();
    await Promise.all([...all.values()].map((s) => this.#closeSegment(s)));
  }

  async #open(n: number): Promise<OpenSegment> {
    // An older sealed segment downloads paced (ChatClientOptions.pacedHistory); the open one and
    // the newest sealed one, which a room opens on, never wait.
    const paced = n !== this.#index.open?.n && n !== this.#index.sealed.at(-1)?.n;
    const segment = await this.#opener(segmentDocName(this.#head.roomId, n), { paced });
    if (this.#closed) {
      await segment.close();
      throw new Error('the room is closed');
    }
    this.#ready.set(n, segment);
    this.#offs.set(n, [
      segment.replica.on('changed', () => {
        // Pages read nothing of a sealed segment still arriving (RoomDocuments): a change to it
        // shows once it holds all it was sealed with. Its hundred pieces, each applied, would
        // otherwise each re-render the reader's page while they scroll.
        if (this.#arriving(n, segment)) return;
        this.#onChange();
        if (n === this.#index.open?.n) this.#keepNewest();
      }),
      // Offline, a segment that had not all arrived is read as it stands: going offline or
      // back online changes what pages show of it (of a segment whole or open, nothing).
      segment.connection.on('state', () => {
        if (this.#short(n, segment)) this.#onChange();
      }),
      segment.replica.on('states', () => {
        // Each piece applied raises what the server is known to hold: nothing shown of it yet.
        if (!this.#arriving(n, segment)) this.#onStates();
      }),
      segment.replica.on('error', this.#onError),
      segment.connection.on('error', this.#onError),
    ]);
    this.#evict();
    this.#onChange();
    return segment;
  }

  /** Whether segment n is sealed and, online, still short of the messages it was sealed with. */
  #arriving(n: number, segment: OpenSegment): boolean {
    return !offlineOrStopped(segment.connection) && this.#short(n, segment);
  }

  /** Whether segment n is sealed and holds fewer messages than it was sealed with. */
  #short(n: number, segment: OpenSegment): boolean {
    const sealed = this.#index.sealedAt(n);
    return sealed !== undefined && messageCount(segment.replica.doc) < sealed.count;
  }

  #indexChanged(): void {
    const before = this.#index;
    this.#index = SegmentIndex.of(this.#head.doc);
    if (before.open?.n !== this.#index.open?.n || before.sealed.length !== this.#index.sealed.length) {
      this.#keepNewest();
      this.#onChange();
    }
  }

  /** The open segment, and the newest sealed one while the open one holds less than a page. */
  #keepNewest(): void {
    if (this.#closed) return;
    const open = this.#index.open;
    if (!open) return;
    const report = (error: unknown): void => {
      if (!this.#closed) this.#onError(error as ClientError);
    };
    this.ensure(open.n).catch(report);
    const openDoc = this.opened(open.n)?.replica.doc;
    const newestSealed = this.#index.sealed.at(-1);
    if (newestSealed && (!openDoc || messageCount(openDoc) < PAGE)) this.ensure(newestSealed.n).catch(report);
  }

  #touch(n: number): void {
    this.#lastRead = [...this.#lastRead.filter((m) => m !== n), n];
  }

  #evict(): void {
    const keep = new Set<number>();
    if (this.#index.open) keep.add(this.#index.open.n);
    const newestSealed = this.#index.sealed.at(-1);
    if (newestSealed) keep.add(newestSealed.n);
    const older = this.#lastRead.filter((n) => !keep.has(n) && this.#ready.has(n));
    for (const n of older.slice(0, Math.max(0, older.length - OLDER_SEGMENTS_IN_MEMORY))) {
      const segment = this.#ready.get(n);
      if (!segment || segment.replica.hasPending()) continue;
      this.#ready.delete(n);
      this.#lastRead = this.#lastRead.filter((m) => m !== n);
      const newest = this.#index.open?.n ?? n;
      void this.#closeSegment(segment, n <= newest - KEPT_ON_DEVICE);
    }
  }

  async #closeSegment(segment: OpenSegment, forget = false): Promise<void> {
    for (const off of this.#offs.get(segment.n) ?? []) off();
    this.#offs.delete(segment.n);
    await segment.close(forget).catch((e: unknown) => this.#onError(e as ClientError));
  }
}
