import * as Y from 'yjs';
import type { UpdateGate } from './Room.ts';

/**
 * The minimal gate: an update must decode as Yjs V1 (never V2 on untrusted bytes: yjs#687).
 * Decoding first means a malformed update is refused before any part of it touches the
 * document. The write-permission validator replaces this gate.
 */
export const structuralGate: UpdateGate = (_room, _conn, update) => {
  try {
    Y.decodeUpdate(update);
    return null;
  } catch {
    return { code: 'malformed_update', reason: 'update does not decode as Yjs V1' };
  }
};
