import type { RoomSummaries } from '../RoomSummaries.ts';
import type { CommitStage } from './CommittedBatch.ts';

/** Brings what the REST API reports about the room (last message, read times) in step with it. */
export const updateRoomSummaries =
  (summaries: RoomSummaries): CommitStage =>
  ({ room, updates }) => {
    if (updates.length > 0) summaries.schedule(room);
  };
