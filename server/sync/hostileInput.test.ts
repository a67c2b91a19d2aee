import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { monitorEventLoopDelay, type IntervalHistogram } from 'node:perf_hooks';
import * as Y from 'yjs';
import * as encoding from 'lib0/encoding';
import type { WebsocketProvider } from 'y-websocket';
import { createMessage, deleteMessage, editMessage } from '../../shared/roomDoc/messageOps.ts';
import { addReaction, removeReaction } from '../../shared/roomDoc/reactionOps.ts';
import { markRead } from '../../shared/roomDoc/readOps.ts';
import { listMessages } from '../../shared/roomDoc/queries.ts';
import { ROOT, roomMaps } from '../../shared/roomDoc/layout.ts';
import { uuidv7Time } from '../../shared/ids.ts';
import { CloseCode } from '../../shared/protocol/closeCodes.ts';
import { encodeFrame } from '../../shared/protocol/frames.ts';
import { SqliteUpdateStore } from '../storage/SqliteUpdateStore.ts';
import type { Room } from './Room.ts';
import type { SyncConnection } from './SyncConnection.ts';
import { acknowledged, connectProvider, startTestServer, synced, untilDoc, type TestServer, type TestUser } from '../../test/support/serverHarness.ts';
import { prng, type Rng } from '../../test/support/prng.ts';
import { awarenessFrame, errorsOf, isStep2, openRaw, step1Frame, updateFrame } from '../../test/support/syncFrames.ts';

/*
 * Hostile bytes on the sync endpoint (issue 3): the server stays up, refuses each input with a
 * documented close code or handles it harmlessly, stores nothing of a refused input, keeps every
 * other connection syncing, and never spends more than 100 ms of event loop on one input.
 */

const STALL_MS = 100;
/** Close codes a hostile update may earn (docs/protocol.md). 1011 would be a server bug. */
const REFUSAL_CODES: readonly number[] = [CloseCode.ProtocolError, CloseCode.UpdateRefused, CloseCode.DocumentTooLarge];
/**
 * Mutation seeds, each run on a fresh room (PARLEY_FUZZ_SEEDS=1,2,3 runs others). Inputs are deterministic, so a seed that once found a
 * bug stays in this list as a regression test (add the new ones at the end).
 */
const SEEDS: readonly number[] = (process.env.PARLEY_FUZZ_SEEDS ?? '20261124,1,2,4')
  .split(',')
  .map((s) => Number.parseInt(s, 10));
const MUTATIONS_PER_SEED = 1000;
const BATCH = 100;

type Outcome = 'accepted' | 'hung' | number;

interface Handled {
  ms: number;
  refused: boolean;
  /** The document emitted an update while handling the frame: something was applied (and will be stored). */
  changed: boolean;
  pending: boolean;
  /** Root types outside the layout that exist in the document after the frame and did not before. */
  newRoots: string[];
  /** The frame, as hex, for the failure message. */
  frame: string;
}

const LAYOUT_ROOTS: readonly string[] = Object.values(ROOT);
const strayRoots = (doc: Y.Doc): string[] => [...doc.share.keys()].filter((k) => !LAYOUT_ROOTS.includes(k));

const hasPending = (doc: Y.Doc): boolean => doc.store.pendingStructs !== null || doc.store.pendingDs !== null;

/** A document built from `updates` in one transaction, encoded: equal for equal content. */
function canonical(updates: readonly Uint8Array[]): string {
  const doc = new Y.Doc();
  doc.transact(() => updates.forEach((u) => Y.applyUpdate(doc, u)));
  return Buffer.from(Y.encodeStateAsUpdate(doc)).toString('base64');
}

const step2Frame = (update: Uint8Array): Uint8Array => encodeFrame({ type: 'syncStep2', update });

/** Hand-written V1 bytes (lib0 encoding), for shapes no Yjs API produces. */
function bytes(write: (e: encoding.Encoder) => void): Uint8Array {
  const encoder = encoding.createEncoder();
  write(encoder);
  return encoding.toUint8Array(encoder);
}

/** An awareness frame with one entry (clock 1) whose state is the raw JSON text `json`. */
function rawAwarenessFrame(clientId: number, json: string): Uint8Array {
  const update = bytes((a) => {
    encoding.writeVarUint(a, 1);
    encoding.writeVarUint(a, clientId);
    encoding.writeVarUint(a, 1);
    encoding.writeVarString(a, json);
  });
  return encodeFrame({ type: 'awareness', update });
}

const HUGE = 2 ** 40;
const CONTENT_DELETED = 1;
const CONTENT_ANY = 8;
const SKIP = 10;
const HAS_PARENT_SUB = 0x20;
/** One client's structs, written by `structs`, and an empty delete set. */
const oneClientUpdate = (client: number, clock: number, count: number, structs: (e: encoding.Encoder) => void): Uint8Array =>
  bytes((e) => {
    encoding.writeVarUint(e, 1);
    encoding.writeVarUint(e, count);
    encoding.writeVarUint(e, client);
    encoding.writeVarUint(e, clock);
    structs(e);
    encoding.writeVarUint(e, 0);
  });
/** An item at root map `root`, key `key`, no origins: info • parentInfo(1) • root • key. */
const rootItemHeader = (e: encoding.Encoder, contentRef: number, root: string, key: string) => {
  encoding.writeUint8(e, contentRef | HAS_PARENT_SUB);
  encoding.writeVarUint(e, 1);
  encoding.writeVarString(e, root);
  encoding.writeVarString(e, key);
};
/** No structs, and a delete set of one range. */
const deleteSetUpdate = (client: number, clock: number, len: number): Uint8Array =>
  bytes((e) => {
    encoding.writeVarUint(e, 0);
    encoding.writeVarUint(e, 1);
    encoding.writeVarUint(e, client);
    encoding.writeVarUint(e, 1);
    encoding.writeVarUint(e, clock);
    encoding.writeVarUint(e, len);
  });

/** The updates `change` makes on `doc`, merged into one (as a provider's backlog would be). */
function capture(doc: Y.Doc, change: (doc: Y.Doc) => void): Uint8Array {
  const updates: Uint8Array[] = [];
  const record = (u: Uint8Array) => updates.push(u);
  doc.on('update', record);
  change(doc);
  doc.off('update', record);
  if (updates.length === 0) throw new Error('the change wrote nothing');
  return Y.mergeUpdates(updates);
}

function mutate(rng: Rng, input: Uint8Array, other: Uint8Array): Uint8Array {
  let out = Array.from(input);
  const at = () => rng.int(out.length + 1);
  for (let n = 1 + rng.int(3); n > 0; n--) {
    switch (rng.int(8)) {
      case 0: {
        const i = rng.int(out.length);
        out[i] = (out[i] ?? 0) ^ (1 << rng.int(8));
        break;
      }
      case 1:
        out[rng.int(out.length)] = rng.int(256);
        break;
      case 2:
        // Varint boundaries: a continuation bit with nothing after it, a maximal byte, zero.
        out[rng.int(out.length)] = rng.pick([0x80, 0xff, 0x7f, 0x00]) ?? 0;
        break;
      case 3:
        out = out.slice(0, at());
        break;
      case 4: {
        const i = at();
        out.splice(i, 0, ...Array.from({ length: 1 + rng.int(8) }, () => rng.int(256)));
        break;
      }
      case 5: {
        const i = at();
        out.splice(i, 1 + rng.int(16));
        break;
      }
      case 6: {
        const i = at();
        const j = Math.min(out.length, i + 1 + rng.int(32));
        out.splice(j, 0, ...out.slice(i, j));
        break;
      }
      default: {
        // Crossover: the head of this update and the tail of another.
        const tail = Array.from(other.slice(rng.int(other.length)));
        out = out.slice(0, at()).concat(tail);
      }
    }
    if (out.length === 0) out = [rng.int(256)];
  }
  return new Uint8Array(out);
}

describe('hostile input on the sync endpoint', () => {
  let t: TestServer;
  let ana: TestUser;
  let ben: TestUser;
  let roomId: string;
  /** Every Room instance the registry loaded for the room: more than one means it was dropped. */
  let instances: Room[] = [];
  /** The room as loaded now (loading it if a fault dropped it). */
  const room = (): Room => t.server.registry.open(roomId);
  let base: Y.Doc;
  let anaDevice: WebsocketProvider;
  let benDevice: WebsocketProvider;
  let bystanderCloses = 0;
  const handled: Handled[] = [];
  let messageIds: string[] = [];
  const anaActor = () => ({ userId: ana.id, role: 'owner' as const });

  /*
   * Every input is deterministic (user ids, client ids, message ids, times from the minute the
   * file started), so a seed makes the same bytes up to that time, and a failing mutation can be
   * replayed from its hex.
   */
  // The minute this file started: messages may not be dated before their sender joined the room
  // (5 minutes of skew allowed), and the rooms here are created as the file runs.
  const T0 = Math.floor(Date.now() / 60_000) * 60_000;
  let idCounter = 0;
  /** A UUIDv7 with a fixed time and a counter in place of the random bits. */
  const nextMessageId = (): string => {
    const n = idCounter++;
    const time = (T0 + n).toString(16).padStart(12, '0');
    const rand = n.toString(16).padStart(15, '0');
    return `${time.slice(0, 8)}-${time.slice(8)}-7${rand.slice(0, 3)}-8000-${rand.slice(3)}`;
  };
  const at = { now: T0 + 60_000 };
  const send = (doc: Y.Doc, content: string, meta: Record<string, number> = {}) => createMessage(doc, anaActor(), { id: nextMessageId(), content, meta, ...at });

  /**
   * A new device of Ana holding the room as it is now. Client ids are fixed (not random) so the
   * mutated bytes of a seed stay the same from run to run, up to the random bits of message ids.
   */
  let nextClientId = 2000;
  const device = (): Y.Doc => {
    const doc = new Y.Doc();
    doc.clientID = nextClientId++;
    Y.applyUpdate(doc, Y.encodeStateAsUpdate(room().doc));
    return doc;
  };
  /** The room as stored (snapshot, log, client-id owners), and a short description for failures. */
  const stored = (): { bytes: string; summary: string } => {
    const { snapshot, updates, clientOwners } = new SqliteUpdateStore(t.server.db).load(roomId);
    const hex = (u: Uint8Array | null) => (u ? Buffer.from(u).toString('hex') : null);
    return {
      bytes: JSON.stringify({ snapshot: hex(snapshot), updates: updates.map(hex), clientOwners }),
      summary: `${updates.length} logged updates (last ${hex(updates.at(-1) ?? null)?.slice(0, 80)}), owners ${JSON.stringify(clientOwners)}`,
    };
  };

  /**
   * Opens a socket as `user`, sends `frames`, then a sync step 1 as a probe: the server answers
   * it (after committing) only if the frames were handled without closing the connection.
   */
  async function submit(user: TestUser, frames: readonly Uint8Array[]): Promise<{ outcome: Outcome; errors: Array<{ code: string; reason: string }> }> {
    const raw = await openRaw(t, roomId, user);
    for (const frame of frames) raw.send(frame);
    raw.send(step1Frame());
    let watchdog: NodeJS.Timeout | undefined;
    const outcome = await Promise.race<Outcome>([
      raw.next(isStep2).then(() => 'accepted' as const),
      raw.closed.then(({ code }) => code),
      new Promise<'hung'>((resolve) => (watchdog = setTimeout(() => resolve('hung'), 10_000))),
    ]);
    clearTimeout(watchdog);
    if (outcome === 'accepted') {
      raw.close();
      await raw.closed;
    }
    return { outcome, errors: errorsOf(raw) };
  }

  /**
   * A new room with every kind of content, written through the server by Ana's device, with Ana's
   * and Ben's devices staying connected as bystanders. Each suite gets its own, so that what one
   * suite's accepted inputs did cannot cause another's failures.
   */
  async function seedRoom(): Promise<void> {
    anaDevice?.destroy();
    benDevice?.destroy();
    roomId = await t.createRoom(ana, [ben]);
    instances = [];
    messageIds = [];
    idCounter = 0;
    nextClientId = 2000;
    bystanderCloses = 0;
    base = new Y.Doc();
    base.clientID = 1000;
    anaDevice = connectProvider(t, roomId, ana, base, { parley: true });
    benDevice = connectProvider(t, roomId, ben, new Y.Doc(), { parley: true });
    for (const p of [anaDevice, benDevice]) p.on('connection-close', () => bystanderCloses++);
    await Promise.all([synced(anaDevice), synced(benDevice)]);
    for (let i = 0; i < 6; i++) {
      const result = send(base, `base ${i}`, { n: i });
      if (!result.ok) throw new Error(result.message);
      messageIds.push(result.id);
    }
    const [m0 = '', m1 = '', m2 = '', , , m5 = ''] = messageIds;
    expect(editMessage(base, anaActor(), { id: m0, content: 'base 0, edited', ...at }).ok).toBe(true);
    expect(addReaction(base, anaActor(), { messageId: m1, reaction: '❤️', ...at }).ok).toBe(true);
    expect(deleteMessage(base, anaActor(), { id: m2, ...at }).ok).toBe(true);
    expect(markRead(base, anaActor(), m5).ok).toBe(true);
    await acknowledged(anaDevice);
    await untilDoc(benDevice.doc, (d) => listMessages(d, { limit: 100 }).messages.length === 6);
    room();
  }

  beforeAll(async () => {
    // Thousands of sockets, one per input, many at once: lift the per-user cap for this file.
    t = await startTestServer({ PARLEY_MAX_CONNECTIONS_PER_USER: '100000' });
    const login = async (name: string, userId: string): Promise<TestUser> => {
      const res = await t.api(null, 'POST', '/api/auth/dev-login', { name, user_id: userId });
      const body = res.body as { token: string; user: { id: string; name: string } };
      return { id: body.user.id, name: body.user.name, token: body.token };
    };
    ana = await login('Ana', 'a0000000-0000-4000-8000-00000000000a');
    ben = await login('Ben', 'b0000000-0000-4000-8000-00000000000b');

    // Time the server's handling of every frame, and see whether it changed the document; also
    // in any Room loaded later (a fault that drops the room from memory must not blind the test).
    const instrument = (loaded: Room): Room => {
      if (instances.includes(loaded)) return loaded;
      instances.push(loaded);
      let docUpdates = 0;
      loaded.doc.on('update', () => docUpdates++);
      const receive = loaded.receive.bind(loaded);
      loaded.receive = (conn: SyncConnection, frame: Uint8Array) => {
        const before = docUpdates;
        const rootsBefore = strayRoots(loaded.doc);
        const started = performance.now();
        try {
          receive(conn, frame);
        } finally {
          const ms = performance.now() - started;
          const pending = !loaded.closed && hasPending(loaded.doc);
          const newRoots = loaded.closed ? [] : strayRoots(loaded.doc).filter((k) => !rootsBefore.includes(k));
          handled.push({ ms, refused: conn.closed, changed: docUpdates !== before, pending, newRoots, frame: Buffer.from(frame).toString('hex') });
        }
      };
      return loaded;
    };
    const { registry } = t.server;
    const open = registry.open.bind(registry);
    registry.open = (id: string) => (id === roomId ? instrument(open(id)) : open(id));
    await seedRoom();
  });

  afterAll(async () => {
    anaDevice?.destroy();
    benDevice?.destroy();
    await t?.dispose();
  });

  interface Case {
    name: string;
    /** 'refused': closed with a refusal code; 'accepted': handled and the connection kept; 'either'. */
    expect: 'refused' | 'accepted' | 'either';
    frames: () => Uint8Array[];
    as?: 'ana' | 'ben';
  }

  const validUpdate = (): Uint8Array => capture(device(), (d) => send(d, 'valid'));
  const protoKey = (json: string): unknown => JSON.parse(json);
  const messageValue = (id: string, extra: Record<string, unknown> = {}) => ({
    id,
    senderId: ana.id,
    type: 'text',
    content: 'hi',
    meta: {},
    createdAt: uuidv7Time(id),
    ...extra,
  });

  const cases: Case[] = [
    // Truncated varints, at every level of the frame.
    { name: 'a frame that is one continuation byte', expect: 'refused', frames: () => [new Uint8Array([0x80])] },
    { name: 'a sync message whose subtype is cut', expect: 'refused', frames: () => [new Uint8Array([0, 0x80])] },
    { name: 'an update whose length prefix is cut', expect: 'refused', frames: () => [new Uint8Array([0, 2, 0x80])] },
    { name: 'an update that is one continuation byte', expect: 'refused', frames: () => [updateFrame(new Uint8Array([0x80]))] },
    { name: 'an awareness message whose length is cut', expect: 'refused', frames: () => [new Uint8Array([1, 0xff])] },
    { name: 'a valid update cut in half', expect: 'refused', frames: () => [updateFrame(validUpdate().slice(0, 20))] },
    // Huge length prefixes.
    { name: 'a sync message claiming 4 GiB', expect: 'refused', frames: () => [new Uint8Array([0, 2, 0xff, 0xff, 0xff, 0xff, 0x0f, 1, 2])] },
    { name: 'an update claiming 2^53 clients', expect: 'refused', frames: () => [updateFrame(new Uint8Array([0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x0f]))] },
    { name: 'an update claiming 2^31 structs', expect: 'refused', frames: () => [updateFrame(oneClientUpdate(77, 0, 2 ** 31, () => {}))] },
    {
      name: 'an item claiming 2^31 JSON values',
      expect: 'refused',
      frames: () => [updateFrame(oneClientUpdate(77, 0, 1, (e) => (rootItemHeader(e, CONTENT_ANY, ROOT.messages, 'k'), encoding.writeVarUint(e, 2 ** 31))))],
    },
    {
      name: 'a key whose string length is 4 GiB',
      expect: 'refused',
      frames: () => [
        updateFrame(
          oneClientUpdate(77, 0, 1, (e) => {
            encoding.writeUint8(e, CONTENT_ANY | HAS_PARENT_SUB);
            encoding.writeVarUint(e, 1);
            encoding.writeVarString(e, ROOT.messages);
            encoding.writeVarUint(e, 2 ** 32);
          }),
        ),
      ],
    },
    {
      name: 'a deleted item 2^40 long',
      expect: 'refused',
      frames: () => [updateFrame(oneClientUpdate(78, 0, 1, (e) => (rootItemHeader(e, CONTENT_DELETED, ROOT.messages, 'k'), encoding.writeVarUint(e, HUGE))))],
    },
    { name: 'a GC struct 2^40 long', expect: 'refused', frames: () => [updateFrame(oneClientUpdate(79, 0, 1, (e) => (encoding.writeUint8(e, 0), encoding.writeVarUint(e, HUGE))))] },
    {
      // The item lies past what the server has: dropped, and the sender is asked for what it lacks.
      name: 'a skip of 2^40 before an item',
      expect: 'accepted',
      frames: () => [
        updateFrame(
          oneClientUpdate(80, 0, 2, (e) => {
            encoding.writeUint8(e, SKIP);
            encoding.writeVarUint(e, HUGE);
            rootItemHeader(e, CONTENT_ANY, ROOT.reactions, 'k');
            encoding.writeVarUint(e, 1);
            encoding.writeUint8(e, 125); // any: integer
            encoding.writeVarInt(e, 1);
          }),
        ),
      ],
    },
    { name: "a delete set 2^40 long over Ana's writes", expect: 'accepted', frames: () => [updateFrame(deleteSetUpdate(base.clientID, 0, HUGE))] },
    { name: "Ben's delete set over Ana's writes", as: 'ben', expect: 'refused', frames: () => [updateFrame(deleteSetUpdate(base.clientID, 0, 3))] },
    // Empty updates: a stock client's sync step 2 is [0, 0] when it has nothing new.
    { name: 'the empty update as an update', expect: 'accepted', frames: () => [updateFrame(new Uint8Array([0, 0]))] },
    { name: 'the empty update as a sync step 2', expect: 'accepted', frames: () => [step2Frame(Y.encodeStateAsUpdate(new Y.Doc()))] },
    { name: 'an update of zero bytes', expect: 'refused', frames: () => [updateFrame(new Uint8Array(0))] },
    { name: 'an empty update with trailing bytes', expect: 'either', frames: () => [updateFrame(new Uint8Array([0, 0, 0, 0, 0]))] },
    // Updates that depend on what the server does not have (would sit in pendingStructs/pendingDs):
    // not applied; the server asks the sender for what it lacks (a step 1) and keeps the connection.
    {
      name: 'a clock gap: the second of two messages alone',
      expect: 'accepted',
      frames: () => {
        const doc = device();
        capture(doc, (d) => send(d, 'first, never sent'));
        return [updateFrame(capture(doc, (d) => send(d, 'second')))];
      },
    },
    {
      name: 'a missing origin: an edit on top of a message the server never got',
      expect: 'accepted',
      frames: () => {
        const first = device();
        capture(first, (d) => send(d, 'never sent'));
        const second = device();
        Y.applyUpdate(second, Y.encodeStateAsUpdate(first));
        const id = [...roomMaps(first).messages.keys()].find((k) => !messageIds.includes(k)) ?? '';
        return [updateFrame(capture(second, (d) => editMessage(d, anaActor(), { id, content: 'edited', ...at })))];
      },
    },
    { name: 'a delete set over structs the server does not have', expect: 'accepted', frames: () => [updateFrame(deleteSetUpdate(424242, 0, 1))] },
    // V2 bytes where V1 is expected (never decoded as V2: yjs#687).
    {
      name: 'a V2 update of a new message',
      expect: 'refused',
      frames: () => {
        const doc = device();
        send(doc, 'v2');
        return [updateFrame(Y.encodeStateAsUpdateV2(doc, Y.encodeStateVector(room().doc)))];
      },
    },
    { name: 'a V2 whole-room state as sync step 2', expect: 'refused', frames: () => [step2Frame(Y.encodeStateAsUpdateV2(device()))] },
    { name: 'a valid update converted to V2', expect: 'refused', frames: () => [updateFrame(Y.convertUpdateFormatV1ToV2(validUpdate()))] },
    { name: 'the V2 empty update', expect: 'either', frames: () => [updateFrame(Y.encodeStateAsUpdateV2(new Y.Doc()))] },
    // __proto__ keys in JSON, at every place a key can be.
    {
      name: 'a message whose meta has an own __proto__ key',
      expect: 'refused',
      frames: () => {
        const id = nextMessageId();
        return [updateFrame(capture(device(), (d) => roomMaps(d).messages.set(id, messageValue(id, { meta: protoKey('{"__proto__":{"admin":true}}') }))))];
      },
    },
    {
      name: 'a message value with an own __proto__ key',
      expect: 'refused',
      frames: () => {
        const id = nextMessageId();
        const value = Object.assign(protoKey('{"__proto__":{"editedAt":1}}') as object, messageValue(id));
        return [updateFrame(capture(device(), (d) => roomMaps(d).messages.set(id, value)))];
      },
    },
    {
      name: 'a message stored under the key __proto__',
      expect: 'refused',
      frames: () => [updateFrame(capture(device(), (d) => roomMaps(d).messages.set('__proto__', messageValue(nextMessageId()))))],
    },
    {
      name: 'a reaction named __proto__',
      expect: 'refused',
      frames: () => [updateFrame(capture(device(), (d) => roomMaps(d).reactions.set(`${messageIds[1]}|${ana.id}|__proto__`, at.now)))],
    },
    { name: 'a root type named __proto__', expect: 'refused', frames: () => [updateFrame(capture(device(), (d) => d.getMap('__proto__').set('x', 1)))] },
    // Awareness: huge states, many states, bad numbers, __proto__.
    { name: 'an awareness state of 60 KB', expect: 'accepted', frames: () => [awarenessFrame([{ clientId: 5001, clock: 1, state: { blob: 'x'.repeat(60_000) } }])] },
    {
      name: 'one awareness frame of 5,000 states',
      expect: 'either',
      frames: () => [awarenessFrame(Array.from({ length: 5000 }, (_, i) => ({ clientId: 100_000 + i, clock: 1, state: { typing: true } })))],
    },
    {
      name: 'an awareness entry whose client id is past 2^53',
      expect: 'refused',
      frames: () => [new Uint8Array([1, 12, 1, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f, 1, 0])],
    },
    {
      name: 'an awareness state nested 1,000 deep',
      expect: 'accepted',
      frames: () => [rawAwarenessFrame(5002, '{"a":'.repeat(1000) + '1' + '}'.repeat(1000))],
    },
    {
      name: 'an awareness state with __proto__ keys',
      expect: 'accepted',
      frames: () => [rawAwarenessFrame(5003, '{"__proto__":{"polluted":true},"user":{"__proto__":{"id":"forged"},"name":"x"}}')],
    },
  ];

  it.each(cases)('$name: handled within 100 ms, nothing stored, others unaffected', async (c) => {
    const before = stored();
    const from = handled.length;
    const { outcome, errors } = await submit(c.as === 'ben' ? ben : ana, c.frames());
    const mine = handled.slice(from);

    expect(outcome).not.toBe('hung');
    // Soft: a failing case reports every broken property at once.
    if (c.expect === 'accepted') expect.soft(outcome).toBe('accepted');
    if (c.expect === 'refused') expect.soft(REFUSAL_CODES).toContain(outcome);
    if (c.expect === 'either') expect.soft(['accepted', ...REFUSAL_CODES]).toContain(outcome);
    // A refusal always tells a Parley client why.
    if (typeof outcome === 'number') expect.soft(errors.length).toBeGreaterThan(0);
    const after = stored();
    expect.soft(after.bytes === before.bytes, `the stored room changed: ${before.summary} -> ${after.summary}`).toBe(true);
    expect.soft(mine.some((h) => h.changed), 'the document changed').toBe(false);
    expect.soft(hasPending(room().doc), 'something waits in pendingStructs/pendingDs').toBe(false);
    expect.soft(instances, 'the room was dropped from memory (every connection to it closed)').toHaveLength(1);
    expect.soft(Math.max(...mine.map((h) => h.ms))).toBeLessThan(STALL_MS);
    expect.soft(({} as Record<string, unknown>).polluted).toBeUndefined();
    expect.soft(bystanderCloses, "the bystanders' connections were closed").toBe(0);
  });

  it.each(SEEDS)(`seed %i: ${MUTATIONS_PER_SEED} random mutations of valid updates, each refused or harmless, none stalls the loop`, async (seed) => {
    await seedRoom();
    const rng = prng(seed);
    // Valid updates already in the room, and valid ones it has not seen (each on its own device).
    const seen = [Y.encodeStateAsUpdate(base)];
    const [m0 = '', m1 = '', , m3 = '', m4 = ''] = messageIds;
    const fresh = [
      validUpdate(),
      capture(device(), (d) => addReaction(d, anaActor(), { messageId: m1, reaction: '🎉', ...at })),
      capture(device(), (d) => removeReaction(d, anaActor(), { messageId: m1, reaction: '❤️' })),
      capture(device(), (d) => editMessage(d, anaActor(), { id: m0, content: 'edited again', meta: { k: [1, 'two', null] }, ...at })),
      capture(device(), (d) => deleteMessage(d, anaActor(), { id: m3, ...at })),
      capture(device(), (d) => {
        send(d, 'read me');
        markRead(d, anaActor(), [...roomMaps(d).messages.keys()].sort().at(-1) ?? m4);
      }),
    ];
    const pool = [...seen, ...fresh];
    const inputs = Array.from({ length: MUTATIONS_PER_SEED }, () => {
      const update = mutate(rng, rng.pick(pool) ?? fresh[0]!, rng.pick(pool) ?? fresh[0]!);
      return { as: rng.chance(0.2) ? ben : ana, frame: rng.chance(0.1) ? step2Frame(update) : updateFrame(update) };
    });

    const loop: IntervalHistogram = monitorEventLoopDelay({ resolution: 10 });
    loop.enable();
    const from = handled.length;
    const outcomes: Outcome[] = [];
    const unexpected: string[] = [];
    for (let i = 0; i < inputs.length; i += BATCH) {
      const batch = inputs.slice(i, i + BATCH);
      const results = await Promise.all(batch.map(({ as, frame }) => submit(as, [frame])));
      results.forEach(({ outcome }, j) => {
        outcomes.push(outcome);
        const input = batch[j];
        const expected = outcome === 'accepted' || (typeof outcome === 'number' && REFUSAL_CODES.includes(outcome));
        if (!expected && input) {
          unexpected.push(`${outcome} from ${input.as === ana ? 'Ana' : 'Ben'}: ${Buffer.from(input.frame).toString('hex')}`);
        }
      });
    }
    loop.disable();
    const mine = handled.slice(from);

    const counts = new Map<Outcome, number>();
    for (const o of outcomes) counts.set(o, (counts.get(o) ?? 0) + 1);
    const slowest = Math.max(...mine.map((h) => h.ms));
    console.log(
      `seed ${seed}: ${JSON.stringify(Object.fromEntries(counts))}; slowest frame ${slowest.toFixed(1)} ms; ` +
        `event loop delay max ${(loop.max / 1e6).toFixed(1)} ms, p99 ${(loop.percentile(99) / 1e6).toFixed(1)} ms`,
    );

    // Soft: a failing run reports every broken property at once.
    // Each unexpected outcome with its frame (hex), the first three shown.
    expect.soft(unexpected.length, unexpected.slice(0, 3).join('\n')).toBe(0);
    expect.soft(instances, 'the room was dropped from memory (every connection to it closed)').toHaveLength(1);
    // Nothing of a refused input was applied, so nothing of it can be stored or relayed.
    expect.soft(mine.filter((h) => h.refused && h.changed).map((h) => h.frame)).toEqual([]);
    // Nothing accepted waits in pendingStructs/pendingDs (the first frame that left some is shown, as hex).
    expect.soft(mine.find((h) => h.pending)?.frame).toBeUndefined();
    expect.soft(slowest).toBeLessThan(STALL_MS);
    // The process-wide loop delay (test clients included, on a shared machine) is logged above,
    // not asserted: it flakes under CPU contention. The per-frame time above is the requirement.

    // The room is still one the readers understand, and storage holds exactly what memory holds.
    const live = room();
    const strays = mine.filter((h) => h.newRoots.length > 0 && h.changed);
    expect.soft(strays.length, strays.slice(0, 3).map((h) => `${h.refused ? 'refused' : 'accepted'} ${JSON.stringify(h.newRoots)}: ${h.frame}`).join('\n')).toBe(0);
    expect.soft(() => listMessages(live.doc, { limit: 10_000 })).not.toThrow();
    await new Promise<void>((resolve) => live.whenCommitted(resolve));
    const { snapshot, updates } = new SqliteUpdateStore(t.server.db).load(roomId);
    const storedUpdates = [...(snapshot ? [snapshot] : []), ...updates];
    expect.soft(canonical(storedUpdates), 'storage differs from memory').toBe(canonical([Y.encodeStateAsUpdate(live.doc)]));
    const storedDoc = new Y.Doc();
    storedDoc.transact(() => storedUpdates.forEach((u) => Y.applyUpdate(storedDoc, u)));
    expect.soft(strayRoots(storedDoc), 'stored root types outside the layout').toEqual([]);
  }, 120_000);

  it('afterwards the server is up and the bystanders kept syncing throughout', async () => {
    expect.soft(bystanderCloses, "the bystanders' connections were closed").toBe(0);
    expect.soft(instances, 'the room was dropped from memory').toHaveLength(1);
    const result = send(base, 'after the storm');
    expect(result.ok).toBe(true);
    await acknowledged(anaDevice);
    await untilDoc(benDevice.doc, (d) => listMessages(d, { limit: 10_000 }).messages.some((m) => m.content === 'after the storm'));
    const res = await t.api(ben, 'GET', '/healthz');
    expect(res.status).toBe(200);
  });
});
