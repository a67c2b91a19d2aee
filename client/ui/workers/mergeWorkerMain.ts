import { mergeRoomUpdates } from '../../store/mergeRoomUpdates.ts';
import { MergeRequestSchema } from './mergeMessages.ts';

/** The dedicated worker's global scope, as much of it as this file uses (the DOM lib types `self` as a Window). */
interface WorkerScope {
  onmessage: ((event: MessageEvent<unknown>) => void) | null;
  postMessage(message: { id: number; merged: Uint8Array } | { id: number; error: string }, transfer: ArrayBufferLike[]): void;
}
const scope = globalThis as unknown as WorkerScope;

// Merging a room's log is a Yjs document built and encoded: tens of milliseconds for a 1 MB
// segment, which on the page's thread would be dropped frames while the reader scrolls.
scope.onmessage = (event) => {
  const request = MergeRequestSchema.safeParse(event.data);
  if (!request.success) return;
  const { id, updates } = request.data;
  try {
    const merged = mergeRoomUpdates(updates);
    scope.postMessage({ id, merged }, [merged.buffer]);
  } catch (error) {
    scope.postMessage({ id, error: error instanceof Error ? error.message : String(error) }, []);
  }
};
