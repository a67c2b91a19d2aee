import type { Room } from '../sync/Room.ts';
import type { RoomLease, RoomRegistry } from '../sync/RoomRegistry.ts';

/*
 * Synchronous steps over several documents of a room (a move from one document into another, a
 * history page across segments) when loading a document may be a network round trip (an
 * asynchronous store, docs/scale-out.md). A step reaches documents through a DocAccess; withLoaded
 * loads whatever it lacked and runs it again, so the step itself never awaits: it reads and
 * writes every document it needs in one turn, and nothing can change between its reads.
 */

/** How a step reaches a document by name. */
export type DocAccess = (docName: string) => Room;

/** Thrown by withLoaded's DocAccess for a document that is not loaded: withLoaded loads it and runs the step again. */
export class DocNotLoaded extends Error {
  constructor(readonly docName: string) {
    super(`${docName} is not loaded`);
    this.name = 'DocNotLoaded';
  }
}

/** Reaches loaded documents only (DocNotLoaded for any other). */
export function loadedOnly(registry: RoomRegistry): DocAccess {
  return (docName) => {
    const room = registry.get(docName);
    if (!room) throw new DocNotLoaded(docName);
    return room;
  };
}

/**
 * Runs `step` once every document it reaches is loaded, and returns what it returns: at once
 * when nothing was missing (or the store loaded it at once), else a promise. Each document the
 * step finds missing is loaded through the registry (awaited with an asynchronous store), held
 * until the step has run, and the step runs again from the start. So a step must reach every
 * document it writes before it writes anything; what it reads, it reads in the one turn of its
 * last run. The documents are released after that run: a step that wrote holds what it wrote
 * until committed itself.
 */
export function withLoaded<T>(registry: RoomRegistry, step: (doc: DocAccess) => T): T | Promise<T> {
  const holder = {};
  const leases: RoomLease[] = [];
  const access = loadedOnly(registry);
  const releaseAll = (): void => {
    for (const lease of leases.splice(0)) lease.release();
  };
  const run = (justLoaded: string | null): T | Promise<T> => {
    let missing: string;
    try {
      const value = step(access);
      releaseAll();
      return value;
    } catch (err) {
      if (!(err instanceof DocNotLoaded)) {
        releaseAll();
        throw err;
      }
      if (err.docName === justLoaded) {
        releaseAll();
        throw new Error(`${err.docName} unloaded again as soon as it was loaded`);
      }
      missing = err.docName;
    }
    let lease: RoomLease | Promise<RoomLease>;
    try {
      lease = registry.acquireReady(missing, holder);
    } catch (err) {
      releaseAll();
      throw err;
    }
    if (!(lease instanceof Promise)) {
      leases.push(lease);
      return run(missing);
    }
    return lease.then(
      (loaded) => {
        leases.push(loaded);
        return run(missing);
      },
      (err: unknown) => {
        releaseAll();
        throw err;
      },
    );
  };
  return run(null);
}

/**
 * Runs `done` with the value now, or when the promise resolves; `failed` with what was thrown or
 * rejected, by `compute` or by `done`.
 */
export function settle<T>(compute: () => T | Promise<T>, done: (value: T) => void, failed: (err: unknown) => void): void {
  let value: T | Promise<T>;
  try {
    value = compute();
  } catch (err) {
    failed(err);
    return;
  }
  if (value instanceof Promise) {
    value.then(done).catch(failed);
    return;
  }
  try {
    done(value);
  } catch (err) {
    failed(err);
  }
}
