import type { AppendEntry, ClientBinding, RoomLogStats, StoredRoom, UpdateStore } from './UpdateStore.ts';

type Entry = { seq: number; update: Uint8Array };

/** UpdateStore in process memory: for tests, benchmarks and ephemeral servers. Same contract as SQLite. */
export class MemoryUpdateStore implements UpdateStore {
  #seq = 0;
  readonly #logs = new Map<string, Entry[]>();
  readonly #snapshots = new Map<string, { data: Uint8Array; upToSeq: number }>();
  readonly #owners = new Map<string, Map<number, string>>();
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
      clientOwners: [...(this.#owners.get(roomId) ?? [])],
    };
  }

  append(entries: readonly AppendEntry[], bindings: readonly ClientBinding[] = []): void {
    this.#assertOpen();
    for (const { roomId, clientId, userId } of bindings) {
      let owners = this.#owners.get(roomId);
      if (!owners) this.#owners.set(roomId, (owners = new Map()));
      if (!owners.has(clientId)) owners.set(clientId, userId);
    }
    for (const { roomId, update } of entries) {
      let log = this.#logs.get(roomId);
      if (!log) this.#logs.set(roomId, (log = []));
      log.push({ seq: ++this.#seq, update: update.slice() });
    }
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

  close(): void {
    this.#closed = true;
  }

  #assertOpen(): void {
    if (this.#closed) throw new Error('MemoryUpdateStore is closed');
  }
}
