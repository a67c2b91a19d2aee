import type { AppendEntry, RoomLogStats, StoredRoom, UpdateStore } from './UpdateStore.ts';

type Entry = { seq: number; update: Uint8Array };

/** UpdateStore in process memory: for tests, benchmarks and ephemeral servers. Same contract as SQLite. */
export class MemoryUpdateStore implements UpdateStore {
  #seq = 0;
  readonly #logs = new Map<string, Entry[]>();
  readonly #snapshots = new Map<string, { data: Uint8Array; upToSeq: number }>();
  #closed = false;

  load(roomId: string): StoredRoom {
    this.#assertOpen();
    const snap = this.#snapshots.get(roomId);
    const log = this.#logs.get(roomId) ?? [];
    const last = log[log.length - 1];
    return {
      snapshot: snap ? snap.data.slice() : null,
      updates: log.map((e) => e.update.slice()),
      lastSeq: last ? last.seq : (snap?.upToSeq ?? 0),
    };
  }

  append(entries: readonly AppendEntry[]): Map<string, number> {
    this.#assertOpen();
    const lastSeqs = new Map<string, number>();
    for (const { roomId, update } of entries) {
      const seq = ++this.#seq;
      let log = this.#logs.get(roomId);
      if (!log) this.#logs.set(roomId, (log = []));
      log.push({ seq, update: update.slice() });
      lastSeqs.set(roomId, seq);
    }
    return lastSeqs;
  }

  compact(roomId: string, snapshot: Uint8Array, upToSeq: number): void {
    this.#assertOpen();
    const current = this.#snapshots.get(roomId);
    if (current && current.upToSeq >= upToSeq) return;
    this.#snapshots.set(roomId, { data: snapshot.slice(), upToSeq });
    this.#logs.set(roomId, (this.#logs.get(roomId) ?? []).filter((e) => e.seq > upToSeq));
  }

  stats(roomId: string): RoomLogStats {
    const log = this.#logs.get(roomId) ?? [];
    return {
      updates: log.length,
      bytes: log.reduce((sum, e) => sum + e.update.byteLength, 0),
      snapshotBytes: this.#snapshots.get(roomId)?.data.byteLength ?? 0,
    };
  }

  deleteRoom(roomId: string): void {
    this.#logs.delete(roomId);
    this.#snapshots.delete(roomId);
  }

  close(): void {
    this.#closed = true;
  }

  #assertOpen(): void {
    if (this.#closed) throw new Error('MemoryUpdateStore is closed');
  }
}
