import * as Y from 'yjs';
import * as decoding from 'lib0/decoding';
import { Refused } from './Refused.ts';

export type Struct = Y.Item | Y.GC | Y.Skip;

/** An update decoded for validation: each client's structs in clock order, and its delete set. */
export interface DecodedUpdate {
  readonly clients: ReadonlyMap<number, readonly Struct[]>;
  readonly deletes: ReadonlyMap<number, ReadonlyArray<{ readonly clock: number; readonly len: number }>>;
}

/**
 * Decodes an untrusted update as Yjs V1 (never V2 on untrusted bytes: yjs#687) and checks the
 * shape Yjs itself assumes when applying: each client's structs in one run with contiguous
 * clocks. Yjs keeps only the last run it reads for a client, so an update that lists a client twice
 * (or lists a client with no structs) would apply less than what was validated; it is refused.
 */
export function decodeUpdateSafely(update: Uint8Array): DecodedUpdate {
  let runs: number;
  let decoded: ReturnType<typeof Y.decodeUpdate>;
  try {
    runs = decoding.readVarUint(decoding.createDecoder(update));
    decoded = Y.decodeUpdate(update);
  } catch {
    throw new Refused('malformed_update', 'the bytes do not decode as a Yjs V1 update');
  }
  // The only empty V1 update is [0, 0]; V2 bytes read as V1 typically decode as an empty update.
  if (decoded.structs.length === 0 && decoded.ds.clients.size === 0 && update.byteLength > 2) {
    throw new Refused('malformed_update', 'the bytes do not decode as a Yjs V1 update (V2 is not accepted)');
  }
  const clients = new Map<number, Struct[]>();
  let current: Struct[] | null = null;
  let currentClient = -1;
  let next = 0;
  for (const struct of decoded.structs) {
    const { client, clock } = struct.id;
    if (current === null || client !== currentClient || clock !== next) {
      if (clients.has(client)) throw new Refused('malformed_update', `client ${client} appears twice in one update`);
      current = [];
      currentClient = client;
      clients.set(client, current);
    }
    current.push(struct);
    next = clock + struct.length;
  }
  if (clients.size !== runs) throw new Refused('malformed_update', 'the update lists a client with no structs');
  const deletes = new Map<number, Array<{ clock: number; len: number }>>();
  for (const [client, items] of decoded.ds.clients) deletes.set(client, items);
  return { clients, deletes };
}
