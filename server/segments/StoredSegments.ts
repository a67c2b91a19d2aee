import type { Logger } from '../log.ts';
import type { RoomPeer } from '../sync/RoomPeer.ts';
import type { RoomRegistry } from '../sync/RoomRegistry.ts';
import type { FramePacer } from '../ws/FramePacer.ts';
import { SegmentIndex, parseDocName } from '../../shared/roomDoc/segments.ts';
import { StoredSegment } from './StoredSegment.ts';
import type { StoredDoc, StoredDocs } from '../sync/StoredDocs.ts';
import type { StoredStateReader } from './StoredStateReader.ts';

/**
 * The sealed segments served from storage (StoredSegment), one per document with readers. A peer
 * opening a segment is served this way when the room's head is loaded (it always is while a
 * device reads the room: it opens the head first) and names that segment sealed; anything else
 * (an open segment, a head, a room not segmented, a head not loaded) joins its loaded room.
 */
export class StoredSegments implements StoredDocs {
  readonly #registry: RoomRegistry;
  readonly #reader: StoredStateReader;
  readonly #pacer: FramePacer | undefined;
  readonly #logger: Logger;
  readonly #docs = new Map<string, StoredSegment>();

  constructor(deps: { registry: RoomRegistry; reader: StoredStateReader; pacer?: FramePacer; logger: Logger }) {
    this.#registry = deps.registry;
    this.#reader = deps.reader;
    this.#pacer = deps.pacer;
    this.#logger = deps.logger;
    deps.registry.onLoadedDoc((room) => this.#docs.get(room.roomId)?.roomLoaded(room));
    deps.registry.onUnloaded((docName) => this.#docs.get(docName)?.roomUnloaded());
  }

  /** Whether a peer opening `docName` is served from storage: a sealed segment of a room whose head is loaded. */
  serves(docName: string): boolean {
    const parsed = parseDocName(docName);
    if (!parsed || parsed.segment === null) return false;
    const head = this.#registry.get(parsed.roomId);
    return head !== undefined && SegmentIndex.of(head.doc).sealedAt(parsed.segment) !== undefined;
  }

  /** Joins `peer` to the stored segment `docName` (serves() said so); leave() it when done. */
  join(peer: RoomPeer, docName: string): StoredSegment {
    let segment = this.#docs.get(docName);
    if (!segment) {
      const loaded = this.#registry.get(docName) ?? null;
      segment = new StoredSegment({ docName, reader: this.#reader, logger: this.#logger, loaded, ...(this.#pacer ? { pacer: this.#pacer } : {}) });
      this.#docs.set(docName, segment);
    }
    segment.join(peer);
    return segment;
  }

  /** The peer leaves; returns the state vector it holds at least (StoredSegment.leave). */
  leave(peer: RoomPeer, doc: StoredDoc): Uint8Array | null {
    if (!(doc instanceof StoredSegment)) return null;
    const segment = doc;
    const holds = segment.leave(peer);
    if (segment.empty && this.#docs.get(segment.docName) === segment) {
      this.#docs.delete(segment.docName);
      segment.close();
    }
    return holds;
  }

  /** The peers reading a room's segments from storage. */
  *peersOf(roomId: string): Generator<RoomPeer> {
    for (const [docName, segment] of this.#docs) if (parseDocName(docName)?.roomId === roomId) yield* segment.peers();
  }

  *peers(): Generator<RoomPeer> {
    for (const segment of this.#docs.values()) yield* segment.peers();
  }
}
