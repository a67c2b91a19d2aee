import { decodeServerFrame } from '../../shared/protocol/frames.ts';

/** The update a whole-room reply frame (sync step 2 or update) carries, as a view into the frame. */
export function updateInFrame(frame: Uint8Array): Uint8Array {
  const decoded = decodeServerFrame(frame);
  if (!decoded.ok || (decoded.frame?.type !== 'syncStep2' && decoded.frame?.type !== 'update')) throw new Error('the storage worker sent a frame that is not a sync update');
  return decoded.frame.update;
}
