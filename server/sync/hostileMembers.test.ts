import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import * as Y from 'yjs';
import type { WebsocketProvider } from 'y-websocket';
import { CloseCode } from '../../shared/protocol/closeCodes.ts';
import { reactionKey, roomMaps } from '../../shared/roomDoc/layout.ts';
import { createMessage } from '../../shared/roomDoc/messageOps.ts';
import { listMessages } from '../../shared/roomDoc/queries.ts';
import { v7 } from '../../test/support/roomDocFixtures.ts';
import { acknowledged, connectProvider, startTestServer, synced, untilDoc, type TestServer, type TestUser } from '../../test/support/serverHarness.ts';
import { errorsOf, openRaw, step1Frame, updateFrame } from '../../test/support/syncFrames.ts';

vi.mock('../log.ts', () => import('../../test/support/logCapture.ts').then((m) => m.logModule));

/*
 * Issue 14's hostile members, each against one room where a canary writer (Parley client) and a
 * canary reader (stock provider) live: the attacker is refused with the documented code, nothing
 * of the attack is stored, and the canaries are never closed and get every message.
 */

let t: TestServer;
let ana: TestUser;
let mallory: TestUser;
let roomId: string;
let writer: WebsocketProvider;
let reader: WebsocketProvider;
const canaryCloses: number[] = [];
let canaryCount = 0;

const contents = (doc: Y.Doc): string[] => listMessages(doc, { limit: 10_000 }).messages.map((m) => m.content);

beforeAll(async () => {
  t = await startTestServer();
  ana = await t.login('Ana');
  mallory = await t.login('Mallory');
  const cleo = await t.login('Cleo');
  roomId = await t.createRoom(ana, [mallory, cleo]);
  writer = connectProvider(t, roomId, ana, new Y.Doc(), { parley: true });
  reader = connectProvider(t, roomId, cleo);
  for (const canary of [writer, reader]) canary.on('connection-close', (event: { code: number } | null) => canaryCloses.push(event?.code ?? 0));
  await Promise.all([synced(writer), synced(reader)]);
});
afterAll(async () => {
  expect(canaryCloses).toEqual([]);
  writer.destroy();
  reader.destroy();
  await t.dispose();
});

/** The canary writes; resolves once it is acknowledged and the reader has it. */
async function canariesFlow(): Promise<void> {
  const content = `canary ${++canaryCount}`;
  const result = createMessage(writer.doc, { userId: ana.id, role: 'owner' }, { content });
  if (!result.ok) throw new Error(result.message);
  await acknowledged(writer);
  await untilDoc(reader.doc, (doc) => contents(doc).includes(content));
}

/** Mallory's forged change as one update, made on a replica of the room. */
function forged(change: (doc: Y.Doc) => void): Uint8Array {
  const doc = new Y.Doc();
  Y.applyUpdate(doc, Y.encodeStateAsUpdate(reader.doc));
  const before = Y.encodeStateVector(doc);
  change(doc);
  return Y.encodeStateAsUpdate(doc, before);
}

/** Sends Mallory's frames on a socket of their own: the close code and errors it got. */
async function attack(frames: readonly Uint8Array[]): Promise<{ code: number; errors: string[] }> {
  const raw = await openRaw(t, roomId, mallory);
  for (const frame of frames) raw.send(frame);
  const { code } = await raw.closed;
  return { code, errors: errorsOf(raw).map((e) => e.code) };
}

function rawMessage(doc: Y.Doc, at: number, meta: object = {}): string {
  const id = v7(at, Math.floor(Math.random() * 2 ** 40));
  roomMaps(doc).messages.set(id, { id, senderId: mallory.id, type: 'text', content: 'forged', meta, createdAt: at });
  return id;
}

describe('hostile members against canaries', () => {
  it('900 KB of extra_metadata: over_limit, 4422, not stored', async () => {
    const outcome = await attack([updateFrame(forged((doc) => rawMessage(doc, Date.now(), { blob: 'm'.repeat(900_000) })))]);
    expect(outcome).toEqual({ code: CloseCode.UpdateRefused, errors: ['over_limit'] });
    await canariesFlow();
    expect(contents(reader.doc)).not.toContain('forged');
  });

  it('a message dated 1970: bad_message, 4422, not stored', async () => {
    const outcome = await attack([updateFrame(forged((doc) => rawMessage(doc, 0)))]);
    expect(outcome).toEqual({ code: CloseCode.UpdateRefused, errors: ['bad_message'] });
    await canariesFlow();
    expect(contents(reader.doc)).not.toContain('forged');
  });

  it('5,000 reactions in one update: over_limit, 4422, none stored', async () => {
    const target = listMessages(reader.doc, { limit: 1 }).messages[0]?.id ?? '';
    const outcome = await attack([
      updateFrame(
        forged((doc) => {
          for (let i = 0; i < 5000; i++) roomMaps(doc).reactions.set(reactionKey({ messageId: target, userId: mallory.id, reaction: `r${i}` }), Date.now());
        }),
      ),
    ]);
    expect(outcome).toEqual({ code: CloseCode.UpdateRefused, errors: ['over_limit'] });
    await canariesFlow();
    expect(roomMaps(reader.doc).reactions.size).toBe(0);
  });

  it('a sync step 1 naming 70,000 invented client ids: 1002 at once, no reply', async () => {
    const invented = new Map(Array.from({ length: 70_000 }, (_, i) => [1_000_000 + i, 5]));
    const raw = await openRaw(t, roomId, mallory);
    raw.send(step1Frame(Y.encodeStateVector(invented)));
    expect((await raw.closed).code).toBe(CloseCode.ProtocolError);
    expect(raw.received.every((frame) => frame.byteLength < 64 * 1024)).toBe(true);
    await canariesFlow();
  });
});
