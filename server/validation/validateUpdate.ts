/*
 * Over 350 lines for a reason: the validator is one pass over a decoded update (structs, then
 * deletions) whose steps share the pass's state; the per-key rules live in slotRules.ts.
 */
import * as Y from 'yjs';
import type { ChatMemberRole } from '../../shared/models/chatMember.ts';
import type { Actor } from '../../shared/roomDoc/actor.ts';
import { SegmentIndex } from '../../shared/roomDoc/segments.ts';
import { HEAD_ROOT, MAX_PINS, headMaps, parseThreadReadKey } from '../../shared/roomDoc/headMaps.ts';
import { pinCount } from '../../shared/roomDoc/pinReads.ts';
import { ThreadReadIndex } from '../../shared/roomDoc/threadReadIndex.ts';
import { ROOT, type MessageValue, parseDeletionValue, parseMessageEntry, parseReactionKey, parseReadKey, parseReadValue, roomMaps } from '../../shared/roomDoc/layout.ts';
import { reactionKeysOf } from '../../shared/roomDoc/reactionOps.ts';
import { MAX_NEW_MESSAGES_PER_UPDATE, MAX_REACTION_CHANGES_PER_UPDATE, MAX_REACTIONS_PER_PERSON_PER_MESSAGE } from '../../shared/roomDoc/valueLimits.ts';
import type { UpdateRefusal } from '../../shared/protocol/updateRefusals.ts';
import type { ClientOwners } from './ClientOwners.ts';
import { decodeUpdateSafely, type Struct } from './decodeUpdateSafely.ts';
import { Refused } from './Refused.ts';
import type { UploadedAttachment } from './judgeAttachments.ts';
import { DELETED, type RootName, type Slot, type SlotContext, type Written, judgeRemoval, judgeWrite } from './slotRules.ts';

/** Distinct client ids with new structs in one update (a user's devices; a legitimate update has one or two). */
export const MAX_CLIENTS_PER_UPDATE = 16;
/** Longest item accepted: map entries are single values, or runs of one key's collected writes. */
export const MAX_ITEM_LENGTH = 2 ** 31;
/** Client ids one user may own in one room (each new id slows every later transaction: yjs#415). */
export const MAX_CLIENT_IDS_PER_USER = 1000;

export interface UpdateSender {
  readonly userId: string;
  /** The sender's role in the room, looked up only when a rule needs it (deleting others' messages). */
  readonly role: () => ChatMemberRole;
  /**
   * When the sender became a member of the room (ms), looked up only for new messages: none may
   * be dated earlier (MAX_PAST_SKEW_MS allowed). Absent or null: no such rule (tests, tools).
   */
  readonly memberSince?: () => number | null;
  /** Whether a user is an active member of the room, for mentions. Absent: no such rule (tests, tools). */
  readonly isActiveMember?: (userId: string) => boolean;
  /**
   * The upload with this id to this room (docs/attachments.md): uploader and recorded reference,
   * or null. Absent: no uploads exist, so a message naming an attachment is refused.
   */
  readonly uploadedAttachment?: (id: string) => UploadedAttachment | null;
}

export interface ValidationInput {
  /** The room's current document (the server's replica); it is read, never changed. */
  readonly doc: Y.Doc;
  readonly update: Uint8Array;
  readonly sender: UpdateSender;
  readonly owners: ClientOwners;
  /** Milliseconds since the epoch, for the "not dated in the future" rule. */
  readonly now: number;
  /** The document is one of a room's segments, not a room's own document (default false). */
  readonly isSegment?: boolean;
}

/**
 * How an update can grow the room, for its size limit: it creates messages (the limit binds it
 * fully), it writes other content (edits, reactions, read positions: the clean-up grace), or it
 * only deletes (deletion records, tombstones, reaction removals: never refused for size, since
 * it frees room once compacted).
 */
export type Growth = 'messages' | 'other' | 'none';

export type Verdict =
  | {
      readonly ok: true;
      readonly newClients: readonly number[];
      /** How the update can grow the room (default 'messages'). */
      readonly growth?: Growth;
    }
  | { readonly ok: false; readonly refusal: UpdateRefusal };

/**
 * Decides, before anything is applied, whether the sender may make every change in an update
 * (docs/protocol.md, "Write permissions"). Pure: reads the document and the client-id owners,
 * changes neither; the caller binds `newClients` to the sender once it applies the update.
 */
export function validateUpdate(input: ValidationInput): Verdict {
  try {
    const check = new UpdateCheck(input);
    const newClients = check.run();
    return { ok: true, newClients, growth: check.growth };
  } catch (err) {
    if (err instanceof Refused) return { ok: false, refusal: { code: err.code, reason: err.reason } };
    throw err;
  }
}

/** A new struct of this update, once judged: where it wrote (null for GC) and its clock range. */
interface NewStruct {
  readonly clock: number;
  readonly end: number;
  readonly slot: Slot | null;
  readonly live: boolean;
}

/**
 * The latest write of this update to a slot. `collected`: the item arrived already deleted, so its
 * value is unknown; until something else is written, the rules keep seeing the server's value.
 */
interface SlotWrite {
  value: Written;
  collected: boolean;
  readonly id: Y.ID;
}

const ROOT_NAMES: ReadonlySet<string> = new Set([...Object.values(ROOT), ...Object.values(HEAD_ROOT)]);
const isRootName = (name: string): name is RootName => ROOT_NAMES.has(name);

class UpdateCheck implements SlotContext {
  readonly #input: ValidationInput;
  readonly #store: Y.Doc['store'];
  readonly #maps;
  readonly #rootOf = new Map<unknown, RootName>();
  /** Per client: the clock up to which structs are known (the server's, then this update's). */
  readonly #known = new Map<number, number>();
  readonly #newStructs = new Map<number, NewStruct[]>();
  /** This update's latest write per slot, by root map and key. */
  readonly #writes: Record<RootName, Map<string, SlotWrite>> = {
    messages: new Map(),
    deletions: new Map(),
    reactions: new Map(),
    reads: new Map(),
    pins: new Map(),
    threads: new Map(),
    threadReads: new Map(),
  };
  readonly #threadReadsTouched = new Set<string>();
  #pinsTouched = false;
  readonly #mustBeDeleted = new Set<string>();
  readonly #endChecks: Array<() => void> = [];
  readonly #finalMessages = new Map<string, MessageValue | null>();
  readonly #newClients: number[] = [];
  #readsTouched = false;
  #newMessages = 0;
  /** A write other than a new message that adds content (an edit, a reaction, a read position). */
  #grows = false;
  #reactionChanges = 0;
  #actor: Actor | null = null;
  #memberSince: number | null | undefined = undefined;
  #segmented: boolean | undefined;

  readonly userId: string;
  readonly now: number;
  readonly isSegment: boolean;

  constructor(input: ValidationInput) {
    this.#input = input;
    this.#store = input.doc.store;
    this.#maps = { ...roomMaps(input.doc), ...headMaps(input.doc) };
    this.isSegment = input.isSegment ?? false;
    for (const name of ROOT_NAMES) if (isRootName(name)) this.#rootOf.set(this.#maps[name], name);
    this.userId = input.sender.userId;
    this.now = input.now;
  }

  run(): number[] {
    const decoded = decodeUpdateSafely(this.#input.update);
    if (decoded.clients.size > MAX_CLIENTS_PER_UPDATE) {
      throw new Refused('too_many_client_ids', `an update may carry at most ${MAX_CLIENTS_PER_UPDATE} client ids`);
    }
    this.#integrateStructs(decoded.clients);
    for (const [client, ranges] of decoded.deletes) for (const { clock, len } of ranges) this.#judgeDeleteRange(client, clock, len);
    this.#finalChecks();
    return this.#newClients;
  }

  // SlotContext

  segmentedHead(): boolean {
    this.#segmented ??= SegmentIndex.of(this.#input.doc).segmented;
    return this.#segmented;
  }

  actor(): Actor {
    this.#actor ??= { userId: this.userId, role: this.#input.sender.role() };
    return this.#actor;
  }

  memberSince(): number | null {
    if (this.#memberSince === undefined) this.#memberSince = this.#input.sender.memberSince?.() ?? null;
    return this.#memberSince;
  }

  current(root: RootName, key: string): unknown {
    const write = this.#writes[root].get(key);
    if (write && !write.collected) return write.value === DELETED ? undefined : write.value;
    return this.#maps[root].get(key);
  }

  finalMessage(id: string): MessageValue | null {
    // Only end checks call this, once every write is known: the answer cannot change any more.
    let message = this.#finalMessages.get(id);
    if (message === undefined) {
      message = parseMessageEntry(id, this.current('messages', id));
      this.#finalMessages.set(id, message);
    }
    return message;
  }

  atEnd(check: () => void): void {
    this.#endChecks.push(check);
  }

  requireDeletion(messageId: string): void {
    this.#mustBeDeleted.add(messageId);
  }

  touchReads(): void {
    this.#readsTouched = true;
  }

  touchThreadReads(rootId: string): void {
    this.#threadReadsTouched.add(rootId);
  }

  touchPins(): void {
    this.#pinsTouched = true;
  }

  isActiveMember(userId: string): boolean {
    return this.#input.sender.isActiveMember?.(userId) ?? true;
  }

  uploadedAttachment(id: string): UploadedAttachment | null {
    return this.#input.sender.uploadedAttachment?.(id) ?? null;
  }

  get growth(): Growth {
    return this.#newMessages > 0 ? 'messages' : this.#grows ? 'other' : 'none';
  }

  countGrowth(): void {
    this.#grows = true;
  }

  countNewMessage(): void {
    if (++this.#newMessages > MAX_NEW_MESSAGES_PER_UPDATE) throw new Refused('over_limit', `an update may create at most ${MAX_NEW_MESSAGES_PER_UPDATE} messages`);
  }

  countReactionChange(): void {
    if (++this.#reactionChanges > MAX_REACTION_CHANGES_PER_UPDATE) throw new Refused('over_limit', `an update may change at most ${MAX_REACTION_CHANGES_PER_UPDATE} reactions`);
  }

  // Structs

  #knownClock(client: number): number {
    let clock = this.#known.get(client);
    if (clock === undefined) {
      clock = Y.getState(this.#store, client);
      this.#known.set(client, clock);
    }
    return clock;
  }

  /**
   * Judges new structs in an order Yjs could integrate them: a struct waits until the structs its
   * origin names are known. Whatever never becomes integrable (a clock gap, a missing origin, a
   * cycle) is refused: Yjs would park it in pendingStructs forever.
   */
  #integrateStructs(clients: ReadonlyMap<number, readonly Struct[]>): void {
    const next = new Map<number, number>();
    let remaining = 0;
    for (const structs of clients.values()) remaining += structs.length;
    let progress = true;
    while (remaining > 0 && progress) {
      progress = false;
      for (const [client, structs] of clients) {
        let i = next.get(client) ?? 0;
        for (; i < structs.length; i++) {
          const struct = structs[i];
          if (struct === undefined || !this.#tryStruct(client, struct)) break;
          remaining -= 1;
          progress = true;
        }
        next.set(client, i);
      }
    }
    if (remaining > 0) throw new Refused('missing_dependencies', 'the update depends on changes the server does not have');
  }

  /** Judges one struct if it can be integrated now; false when it must wait for another client's structs. */
  #tryStruct(client: number, struct: Struct): boolean {
    if (struct instanceof Y.Skip) return true;
    const { clock } = struct.id;
    const end = clock + struct.length;
    const known = this.#knownClock(client);
    if (clock > known) throw new Refused('missing_dependencies', `client ${client} skips from clock ${known} to ${clock}`);
    // Yjs resolves an item's references before it looks at whether it has the item already, so a
    // duplicate naming a struct nobody has would wait in pendingStructs too: check them first.
    if (struct instanceof Y.Item && !this.#referencesKnown(client, struct)) return false;
    if (end <= known) return true; // the server has it already: Yjs skips it
    if (!(struct instanceof Y.Item)) throw new Refused('bad_layout', 'a garbage-collected struct: root map entries are never collected whole');
    this.#claimClient(client);
    const slot = this.#judgeItem(struct, known - clock);
    this.#remember(client, { clock, end, slot, live: !(struct.content instanceof Y.ContentDeleted) });
    this.#known.set(client, end);
    return true;
  }

  /**
   * Whether every struct the item names (origin, right origin, parent item) is known. One of
   * another client may still come later in the update (false: wait for it); one of the item's own
   * client must come before it.
   */
  #referencesKnown(client: number, item: Y.Item): boolean {
    const parent = item.parent instanceof Y.ID ? item.parent : null;
    for (const ref of [item.origin, item.rightOrigin, parent]) {
      if (ref === null) continue;
      if (ref.client === client) {
        if (ref.clock >= item.id.clock) throw new Refused('missing_dependencies', 'an item names a later struct of its own client');
      } else if (ref.clock >= this.#knownClock(ref.client)) {
        return false;
      }
    }
    return true;
  }

  #claimClient(client: number): void {
    const { owners } = this.#input;
    const owner = owners.ownerOf(client);
    if (owner === this.userId) return;
    if (owner !== undefined) throw new Refused('client_id_taken', `client id ${client} belongs to someone else`);
    if (this.#newClients.includes(client)) return;
    if (Y.getState(this.#store, client) > 0) throw new Refused('client_id_taken', `client id ${client} belongs to someone else`);
    if (owners.countFor(this.userId) + this.#newClients.length >= MAX_CLIENT_IDS_PER_USER) {
      throw new Refused('too_many_client_ids', `a user may write with at most ${MAX_CLIENT_IDS_PER_USER} client ids in one room`);
    }
    this.#newClients.push(client);
  }

  /** Resolves where a new item writes, judges the write and records it. */
  /**
   * Resolves where a new item writes, judges the write and records it. `offset`: how much of the
   * item the server has already (Yjs integrates only the rest). Several values in one item are
   * consecutive writes to one slot that the sender's replica merged.
   */
  #judgeItem(item: Y.Item, offset: number): Slot {
    if (item.rightOrigin !== null) throw new Refused('bad_layout', 'the room document holds only maps, and map entries have no right origin');
    if (item.length > MAX_ITEM_LENGTH) throw new Refused('bad_layout', `an item of ${item.length} entries`);
    const slot = this.#slotOfNewItem(item);
    const { content } = item;
    let values: Written[];
    if (content instanceof Y.ContentDeleted) values = [DELETED];
    else if (content instanceof Y.ContentAny) values = content.arr.slice(offset);
    else throw new Refused('bad_layout', `${slot.root} entries hold plain JSON values, not ${content.constructor.name}`);
    for (const value of values) {
      judgeWrite(this, slot, value);
      this.#writes[slot.root].set(slot.key, { value, collected: value === DELETED, id: item.id });
    }
    return slot;
  }

  #slotOfNewItem(item: Y.Item): Slot {
    const { parent, parentSub, origin } = item;
    if (typeof parent === 'string') {
      if (!isRootName(parent)) throw new Refused('bad_layout', `unknown root type ${JSON.stringify(parent)}`);
      if (parentSub === null) throw new Refused('bad_layout', `${parent} is a map: entries need a key`);
      return { root: parent, key: parentSub };
    }
    if (parent !== null || origin === null) throw new Refused('bad_layout', 'the room document has no nested types');
    // Decoded items inserted after an existing one carry no parent: it is the origin's.
    const fromUpdate = this.#newStructAt(origin.client, origin.clock);
    if (fromUpdate) {
      if (!fromUpdate.slot) throw new Refused('bad_layout', 'an item follows a garbage-collected struct');
      return fromUpdate.slot;
    }
    return this.#slotOfStoredStruct(Y.getItem(this.#store, origin));
  }

  #slotOfStoredStruct(struct: Y.Item | Y.GC): Slot {
    if (!(struct instanceof Y.Item)) throw new Refused('bad_layout', 'an item follows a garbage-collected struct');
    const root = this.#rootOf.get(struct.parent);
    if (root === undefined || struct.parentSub === null) throw new Refused('bad_layout', 'an item follows one outside the room document layout');
    return { root, key: struct.parentSub };
  }

  #remember(client: number, struct: NewStruct): void {
    let list = this.#newStructs.get(client);
    if (!list) this.#newStructs.set(client, (list = []));
    list.push(struct);
  }

  /** The new struct of this update covering (client, clock), if any (they are in clock order). */
  #newStructAt(client: number, clock: number): NewStruct | null {
    const list = this.#newStructs.get(client);
    if (!list) return null;
    let lo = 0;
    let hi = list.length - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1;
      const s = list[mid];
      if (s === undefined) break;
      if (clock < s.clock) hi = mid - 1;
      else if (clock >= s.end) lo = mid + 1;
      else return s;
    }
    return null;
  }

  // Delete set

  #judgeDeleteRange(client: number, clock: number, len: number): void {
    const end = clock + len;
    if (end > this.#knownClock(client)) throw new Refused('missing_dependencies', `the update deletes clocks of client ${client} the server does not have`);
    const stored = this.#store.clients.get(client);
    const storedEnd = Y.getState(this.#store, client);
    if (stored && clock < storedEnd) {
      for (let i = Y.findIndexSS(stored, clock); i < stored.length; i++) {
        const struct = stored[i];
        if (struct === undefined || struct.id.clock >= end) break;
        if (struct instanceof Y.Item && !struct.deleted) this.#judgeRemovalOf(this.#slotOfStoredStruct(struct), struct.id);
      }
    }
    for (const struct of this.#newStructs.get(client) ?? []) {
      if (struct.end <= clock || struct.clock >= end || !struct.live || !struct.slot) continue;
      this.#judgeRemovalOf(struct.slot, { client, clock: struct.clock });
    }
  }

  /** The delete set removes the item `id` at `slot`. */
  #judgeRemovalOf(slot: Slot, id: { client: number; clock: number }): void {
    const write = this.#writes[slot.root].get(slot.key);
    const replacedInUpdate = write !== undefined && !(write.id.client === id.client && write.id.clock === id.clock);
    judgeRemoval(this, slot, write !== undefined);
    // The update's own latest write is deleted again: the slot ends up empty.
    if (!replacedInUpdate) this.#writes[slot.root].set(slot.key, { value: DELETED, collected: false, id: write?.id ?? new Y.ID(id.client, id.clock) });
  }

  // End of update

  #finalChecks(): void {
    for (const check of this.#endChecks) check();
    for (const id of this.#mustBeDeleted) {
      if (parseDeletionValue(this.current('deletions', id)) === null) {
        throw new Refused('forbidden', `only the sender may edit message ${id}; a deletion needs its deletion record`);
      }
    }
    if (this.#readsTouched) this.#checkReadPosition();
    for (const rootId of this.#threadReadsTouched) this.#checkThreadReadPosition(rootId);
    if (this.#pinsTouched) this.#checkPinCount();
    if (this.#reactionChanges > 0) this.#checkReactionCounts();
  }

  /** A room holds at most MAX_PINS pins; an update over it may still unpin. */
  #checkPinCount(): void {
    const pins = this.#maps.pins;
    const count = pinCount(this.#input.doc);
    let after = count;
    for (const [key, write] of this.#writes.pins) {
      const before = pins.has(key);
      const live = write.value !== DELETED;
      if (live && !before) after++;
      else if (!live && before) after--;
    }
    if (after > MAX_PINS && after > count) throw new Refused('over_limit', `a room holds at most ${MAX_PINS} pinned messages`);
  }

  /** The sender's read position in one thread (the greatest over their devices' keys) never moves backwards. */
  #checkThreadReadPosition(rootId: string): void {
    const mine = (key: string): boolean => {
      const parsed = parseThreadReadKey(key);
      return parsed !== null && parsed.userId === this.userId && parsed.rootId === rootId;
    };
    this.#neverBackwards('threadReads', ThreadReadIndex.of(this.#input.doc).keysOf(rootId, this.userId), mine);
  }

  /**
   * A position is the greatest value over the sender's keys (one per device): it may not be lower
   * after the update than before. `stored`: the sender's keys in the document; `mine` picks the
   * sender's keys among those this update writes.
   */
  #neverBackwards(root: 'reads' | 'threadReads', stored: Iterable<string>, mine: (key: string) => boolean): void {
    const keys = new Set(stored);
    const highest = (valueOf: (key: string) => unknown, among: Iterable<string>): string | null => {
      let best: string | null = null;
      for (const key of among) {
        const value = parseReadValue(valueOf(key));
        if (value !== null && (best === null || value > best)) best = value;
      }
      return best;
    };
    const before = highest((key) => this.#maps[root].get(key), keys);
    if (before === null) return;
    for (const key of this.#writes[root].keys()) if (mine(key)) keys.add(key);
    const after = highest((key) => this.current(root, key), keys);
    if (after === null || after < before) throw new Refused('bad_read_position', 'a read position never moves backwards');
  }


  /** On every message this update reacts to, the sender's different reactions stay within the limit. */
  #checkReactionCounts(): void {
    // This update's last write per key of the sender's, grouped by message (others' keys are refused earlier).
    const byMessage = new Map<string, Array<{ key: string; live: boolean }>>();
    for (const [key, write] of this.#writes.reactions) {
      const parsed = parseReactionKey(key);
      if (!parsed || parsed.userId !== this.userId) continue;
      let writes = byMessage.get(parsed.messageId);
      if (!writes) byMessage.set(parsed.messageId, (writes = []));
      writes.push({ key, live: write.value !== DELETED });
    }
    for (const [messageId, writes] of byMessage) {
      const keys = new Set(reactionKeysOf(this.#input.doc, messageId, this.userId));
      for (const { key, live } of writes) {
        if (live) keys.add(key);
        else keys.delete(key);
      }
      if (keys.size > MAX_REACTIONS_PER_PERSON_PER_MESSAGE) {
        throw new Refused('over_limit', `a person may have at most ${MAX_REACTIONS_PER_PERSON_PER_MESSAGE} different reactions on one message`);
      }
    }
  }

  /** The sender's read position (the greatest over their devices' keys) never moves backwards. */
  #checkReadPosition(): void {
    const stored: string[] = [];
    this.#maps.reads.forEach((_raw, key) => {
      if (parseReadKey(key)?.userId === this.userId) stored.push(key);
    });
    this.#neverBackwards('reads', stored, (key) => parseReadKey(key)?.userId === this.userId);
  }

}
