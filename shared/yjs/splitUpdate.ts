import * as Y from 'yjs';
import * as encoding from 'lib0/encoding';

type Struct = Y.Item | Y.GC | Y.Skip;
type DeleteSet = ReturnType<typeof Y.createDeleteSet>;

/**
 * Bytes a client section adds besides its structs (struct count, client id, first clock: three
 * varUints), and the update's own header (client count, and an empty delete set's count).
 * Generous on purpose: an underestimate only costs a re-split, never a frame over the budget.
 */
const SECTION_OVERHEAD = 3 * 10;
const UPDATE_OVERHEAD = 2 * 10;

interface Entry {
  readonly client: number;
  readonly struct: Struct;
  readonly size: number;
}

/**
 * Splits a V1 update into V1 updates of at most `budget` bytes each (a single struct larger
 * than the budget goes alone), to be applied in the order returned. Each one depends only on
 * what the receiver had before the whole update plus the updates before it: a struct comes after
 * every struct of the update that its origin, right origin or parent names, and after the
 * earlier clocks of its own client. The delete set goes last, since it may name any struct of
 * the update. Applying them in order yields exactly what applying `update` yields.
 *
 * Cuts also avoid leaving a guarded map entry empty between a collected value and the value that
 * replaced it (see `SplitOptions.guarded`), unless no such cut exists within the budget.
 *
 * An update that fits is returned as is (no re-encoding).
 */
export function splitUpdate(update: Uint8Array, budget: number, opts: SplitOptions = {}): Uint8Array[] {
  // Checked before decoding: an update that fits costs nothing.
  if (update.byteLength <= budget) return [update];
  return splitDecoded(update, Y.decodeUpdate(update), budget, opts);
}

/** splitUpdate of `update` already decoded as `decoded` (`Y.decodeUpdate`), for a caller that reads it for more than this. */
export function splitDecoded(update: Uint8Array, decoded: ReturnType<typeof Y.decodeUpdate>, budget: number, opts: SplitOptions = {}): Uint8Array[] {
  if (update.byteLength <= budget) return [update];
  const { structs, ds } = decoded;
  const order = dependencyOrder(structs);
  const deletes = deleteChunks(ds, budget);
  const chunks: Uint8Array[] = [];
  const opens = openingStructs(order, opts);
  let start = 0;
  let size = UPDATE_OVERHEAD;
  let clients = new Set<number>();
  // The last position where a cut leaves no guarded entry between a collected value and its
  // replacement; every position after it, up to the current one, would.
  let clean = -1;
  const open = new Set<string>();
  const cost = (entry: Entry): number => entry.size + (clients.has(entry.client) ? 0 : SECTION_OVERHEAD);
  for (let i = 0; i < order.length; i++) {
    const entry = order[i]!;
    while (i > start && size + cost(entry) > budget) {
      // Forced when no clean cut exists in this chunk: a best effort, the structs stay valid.
      const cut = clean > start ? clean : i;
      pushFitting(chunks, order.slice(start, cut), null, budget);
      start = cut;
      clean = -1;
      size = UPDATE_OVERHEAD;
      clients = new Set();
      for (let j = cut; j < i; j++) {
        size += cost(order[j]!);
        clients.add(order[j]!.client);
      }
    }
    size += cost(entry);
    clients.add(entry.client);
    const { struct } = entry;
    if (struct instanceof Y.Item && struct.origin) open.delete(idKey(struct.origin.client, struct.origin.clock));
    if (opens.has(struct)) open.add(idKey(struct.id.client, struct.id.clock + struct.length - 1));
    if (open.size === 0) clean = i + 1;
  }
  const rest = order.slice(start);
  // The first delete chunk rides with the last structs when both fit.
  const firstDeletes = deletes[0] ?? null;
  if (firstDeletes && rest.length > 0 && size + firstDeletes.size <= budget) {
    pushFitting(chunks, rest, firstDeletes.ds, budget);
    deletes.shift();
  } else if (rest.length > 0) {
    pushFitting(chunks, rest, null, budget);
  }
  for (const { ds: part } of deletes) chunks.push(encodeChunk([], part));
  return chunks;
}

const idKey = (client: number, clock: number): string => `${client}:${clock}`;

/** A map entry: the name of the root type it hangs under ('' for a nested map) and its key. */
export interface Slot {
  readonly root: string;
  readonly key: string;
}

export interface SplitOptions {
  /** Where an item the receiver already holds sits (the sender's document knows); null if unknown. */
  readonly locate?: (id: Y.ID) => Slot | null;
  /**
   * Map entries a receiver must never see briefly empty, because other entries name them (a
   * message, which reactions, reads and deletion records refer to). Default: every entry.
   */
  readonly guarded?: (slot: Slot) => boolean;
}

/**
 * Collected items (content already deleted by the sender) that a later item of the update
 * replaces as the value of the same guarded map entry. Between the two the receiver sees the
 * entry empty, a state the sender never had: a validator judging a chunk that ends there finds
 * references to it (a deletion record, a reaction, a read position) dangling.
 */
function openingStructs(order: readonly Entry[], opts: SplitOptions): Set<Struct> {
  const replaced = new Set<string>();
  const byClient = new Map<number, Y.Item[]>();
  for (const { struct } of order) {
    if (!(struct instanceof Y.Item)) continue;
    if (struct.origin && struct.rightOrigin === null) replaced.add(idKey(struct.origin.client, struct.origin.clock));
    let list = byClient.get(struct.id.client);
    if (!list) byClient.set(struct.id.client, (list = []));
    list.push(struct);
  }
  for (const list of byClient.values()) list.sort((a, b) => a.id.clock - b.id.clock);
  const find = (id: Y.ID): Y.Item | null => {
    const list = byClient.get(id.client);
    if (!list) return null;
    let lo = 0;
    let hi = list.length - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1;
      const item = list[mid]!;
      if (id.clock < item.id.clock) hi = mid - 1;
      else if (id.clock >= item.id.clock + item.length) lo = mid + 1;
      else return item;
    }
    return null;
  };
  const slots = new Map<Y.Item, Slot | null>();
  const slotOf = (item: Y.Item): Slot | null => {
    // Iterative: a map entry's chain of values can be as long as the update.
    const chain: Y.Item[] = [];
    let current: Y.Item | null = item;
    let slot: Slot | null = null;
    while (current && !slots.has(current)) {
      chain.push(current);
      if (current.parentSub !== null) {
        slot = { root: typeof current.parent === 'string' ? current.parent : '', key: current.parentSub };
        break;
      }
      const origin: Y.ID | null = current.origin;
      if (origin === null) break;
      const inUpdate = find(origin);
      if (inUpdate === null) {
        slot = opts.locate?.(origin) ?? null;
        break;
      }
      current = inUpdate;
    }
    if (current && slots.has(current)) slot = slots.get(current) ?? null;
    for (const link of chain) slots.set(link, slot);
    return slot;
  };
  const guarded = opts.guarded ?? (() => true);
  const opening = new Set<Struct>();
  for (const { struct } of order) {
    if (!(struct instanceof Y.Item) || !(struct.content instanceof Y.ContentDeleted)) continue;
    if (!replaced.has(idKey(struct.id.client, struct.id.clock + struct.length - 1))) continue;
    const slot = slotOf(struct);
    if (slot === null || guarded(slot)) opening.add(struct);
  }
  return opening;
}

/**
 * Encodes `entries` (and `ds`); should the estimate have been short, halves the run until each
 * part fits or is a single struct.
 */
function pushFitting(out: Uint8Array[], entries: readonly Entry[], ds: DeleteSet | null, budget: number): void {
  const bytes = encodeChunk(entries, ds);
  if (bytes.byteLength <= budget || entries.length <= 1) {
    out.push(bytes);
    return;
  }
  const half = entries.length >> 1;
  pushFitting(out, entries.slice(0, half), null, budget);
  pushFitting(out, entries.slice(half), ds, budget);
}

/**
 * Orders the structs so that each comes after what it names. Stays on one client as long as it
 * can, which keeps the chunks' client sections few. Structs whose references never resolve
 * (a cycle or a reference into a gap: not an update Yjs produces) keep their place at the end, as
 * the receiver would have judged them in the whole update.
 */
function dependencyOrder(structs: readonly Struct[]): Entry[] {
  const byClient = new Map<number, Struct[]>();
  for (const struct of structs) {
    // A skip is a gap the update does not fill: nothing to send for it.
    if (struct instanceof Y.Skip) continue;
    let list = byClient.get(struct.id.client);
    if (!list) byClient.set(struct.id.client, (list = []));
    list.push(struct);
  }
  // Per client, the clock range the update carries: references below it are the receiver's.
  const firstClock = new Map<number, number>();
  for (const [client, list] of byClient) firstClock.set(client, list[0]!.id.clock);
  const emitted = new Map<number, number>(firstClock);
  const ready = (ref: Y.ID | null, self: number): boolean => {
    if (ref === null || ref.client === self) return true;
    const first = firstClock.get(ref.client);
    if (first === undefined || ref.clock < first) return true;
    return ref.clock < (emitted.get(ref.client) ?? 0);
  };
  const next = new Map<number, number>();
  const out: Entry[] = [];
  const scratch = new Y.UpdateEncoderV1();
  let progress = true;
  while (progress) {
    progress = false;
    for (const [client, list] of byClient) {
      let i = next.get(client) ?? 0;
      for (; i < list.length; i++) {
        const struct = list[i]!;
        if (struct instanceof Y.Item) {
          const parent = struct.parent instanceof Y.ID ? struct.parent : null;
          if (!ready(struct.origin, client) || !ready(struct.rightOrigin, client) || !ready(parent, client)) break;
        }
        out.push({ client, struct, size: structSize(scratch, struct) });
        emitted.set(client, struct.id.clock + struct.length);
        progress = true;
      }
      next.set(client, i);
    }
  }
  for (const [client, list] of byClient) {
    for (let i = next.get(client) ?? 0; i < list.length; i++) {
      const struct = list[i]!;
      out.push({ client, struct, size: structSize(scratch, struct) });
    }
  }
  return out;
}

function structSize(scratch: Y.UpdateEncoderV1, struct: Y.Item | Y.GC): number {
  const before = encoding.length(scratch.restEncoder);
  struct.write(scratch, 0);
  return encoding.length(scratch.restEncoder) - before;
}

/** The V1 layout of yjs's writeClientsStructs and writeDeleteSet, for a run of ordered structs. */
function encodeChunk(entries: readonly Entry[], ds: DeleteSet | null): Uint8Array {
  const sections = new Map<number, Struct[]>();
  for (const { client, struct } of entries) {
    let list = sections.get(client);
    if (!list) sections.set(client, (list = []));
    list.push(struct);
  }
  const encoder = new Y.UpdateEncoderV1();
  encoding.writeVarUint(encoder.restEncoder, sections.size);
  for (const [client, list] of sections) {
    encoding.writeVarUint(encoder.restEncoder, list.length);
    encoder.writeClient(client);
    encoding.writeVarUint(encoder.restEncoder, list[0]!.id.clock);
    for (const struct of list) struct.write(encoder, 0);
  }
  writeDeleteSet(encoder, ds);
  return encoder.toUint8Array();
}

function writeDeleteSet(encoder: Y.UpdateEncoderV1, ds: DeleteSet | null): void {
  const clients = ds ? [...ds.clients.entries()].filter(([, items]) => items.length > 0) : [];
  encoding.writeVarUint(encoder.restEncoder, clients.length);
  for (const [client, items] of clients.sort((a, b) => b[0] - a[0])) {
    encoder.resetDsCurVal();
    encoding.writeVarUint(encoder.restEncoder, client);
    encoding.writeVarUint(encoder.restEncoder, items.length);
    for (const item of items) {
      encoder.writeDsClock(item.clock);
      encoder.writeDsLen(item.len);
    }
  }
}

/** The delete set cut into parts whose encoding fits the budget (usually one part). */
function deleteChunks(ds: DeleteSet, budget: number): Array<{ ds: DeleteSet; size: number }> {
  const parts: Array<{ ds: DeleteSet; size: number }> = [];
  let current = Y.createDeleteSet();
  // Each range costs at most two varUints; each client's header at most two more.
  const RANGE = 2 * 10;
  let size = UPDATE_OVERHEAD;
  for (const [client, items] of ds.clients) {
    for (const item of items) {
      const extra = RANGE + (current.clients.has(client) ? 0 : SECTION_OVERHEAD);
      if (size + extra > budget && current.clients.size > 0) {
        parts.push({ ds: current, size });
        current = Y.createDeleteSet();
        size = UPDATE_OVERHEAD;
      }
      size += RANGE + (current.clients.has(client) ? 0 : SECTION_OVERHEAD);
      let list = current.clients.get(client);
      if (!list) current.clients.set(client, (list = []));
      list.push(item);
    }
  }
  if (current.clients.size > 0) parts.push({ ds: current, size });
  return parts;
}
