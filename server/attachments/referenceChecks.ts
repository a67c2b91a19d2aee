import type { AsyncApi } from '../storage/AsyncApi.ts';
import type { AttachmentRepo } from '../storage/AttachmentRepo.ts';
import type { ReferenceCheck } from './Attachments.ts';
import type { AttachmentTracker } from './AttachmentTracker.ts';
import type { StoredReferenceScan } from './StoredReferenceScan.ts';

/**
 * The running server's ReferenceCheck: loaded documents are the tracker's (flushed before the
 * candidates are listed, and written again in the deletions' own transaction, `removing`), stored
 * ones the scan's (whose writes the scan makes among the tracker's: StoredReferenceScanDeps.writing).
 */
export function liveReferences(tracker: AttachmentTracker, scan: StoredReferenceScan): ReferenceCheck {
  return {
    flush: () => tracker.flush(),
    settle: (roomIds) => scan.settle(roomIds),
    removing: (remove) => tracker.removing(remove),
  };
}

/** `parley gc-attachments`' ReferenceCheck: nothing is loaded, so only the stored documents count. */
export function storedReferences(repo: AsyncApi<AttachmentRepo>, scan: StoredReferenceScan): ReferenceCheck {
  return {
    flush: () => Promise.resolve(),
    settle: (roomIds) => scan.settle(roomIds),
    removing: (remove) => repo.transaction((tx) => remove(tx, { noted: () => false, catchUp: () => Promise.resolve(), settled: () => true })),
  };
}
