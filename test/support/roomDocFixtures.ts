import * as Y from 'yjs';
import type { Actor } from '../../shared/roomDoc/actor.ts';
import type { CreateMessageResult } from '../../shared/roomDoc/messageOps.ts';

/** Shared by the room document tests: fixed users, deterministic ids, document sync. */

export const ALICE = '0c7f3a1e-58f2-4c8e-9a51-0b0f1c2d3e01';
export const BOB = '1d8e4b2f-69a3-4d9f-8b62-1c1e2d3e4f02';
export const CAROL = '2e9f5c3a-7ab4-4eaf-9c73-2d2f3e4f5a03';
export const DAVE = '3fa06d4b-8bc5-4fb0-ad84-3e3a4f5a6b04';

export const alice: Actor = { userId: ALICE, role: 'member' };
export const bob: Actor = { userId: BOB, role: 'member' };
export const carolAdmin: Actor = { userId: CAROL, role: 'admin' };
export const daveOwner: Actor = { userId: DAVE, role: 'owner' };

/** 2026-01-01T00:00:00Z: every test clock starts here. */
export const T0 = Date.UTC(2026, 0, 1);

const hex = (n: number, width: number): string => n.toString(16).padStart(width, '0');

/** A lowercase UUIDv7 for time `ms`; `tail` (< 2^40) fills the random bits deterministically. */
export function v7(ms: number, tail = 0): string {
  const time = hex(ms, 12);
  const rand = hex(tail, 15);
  return `${time.slice(0, 8)}-${time.slice(8, 12)}-7${rand.slice(0, 3)}-8${rand.slice(3, 6)}-${rand.slice(6, 15)}000`;
}

/** A document with a fixed client id: which of two concurrent map writes wins depends on it. */
export function docWithClient(clientID: number): Y.Doc {
  const doc = new Y.Doc();
  doc.clientID = clientID;
  return doc;
}

/** Brings two documents to the same state, as y-websocket's sync steps would. */
export function exchange(a: Y.Doc, b: Y.Doc): void {
  Y.applyUpdate(b, Y.encodeStateAsUpdate(a, Y.encodeStateVector(b)));
  Y.applyUpdate(a, Y.encodeStateAsUpdate(b, Y.encodeStateVector(a)));
}

export function syncAll(docs: readonly Y.Doc[]): void {
  for (const a of docs) for (const b of docs) if (a !== b) exchange(a, b);
}

export const stateVectorOf = (doc: Y.Doc): string => Buffer.from(Y.encodeStateVector(doc)).toString('hex');

/** Whether the document's encoded state contains `text` (UTF-8), e.g. a deleted message's content. */
export const encodedStateContains = (doc: Y.Doc, text: string): boolean =>
  Buffer.from(Y.encodeStateAsUpdate(doc)).includes(Buffer.from(text, 'utf8'));

/** The id of a message that must have been created. */
export function sent(result: CreateMessageResult): string {
  if (!result.ok) throw new Error(`expected the message to be created: ${result.code}: ${result.message}`);
  return result.id;
}
