import type { RoomSummaries } from '../RoomSummaries.ts';
import type { CommitStage } from './CommittedBatch.ts';

/** Marks what the REST API reports about the room (last message, read times) as behind it: RoomSummaries writes it before anyone reads it. */
export const updateRoomSummaries =
  (summaries: RoomSummaries): CommitStage =>
  ({ room, updates }) => {
    if (updates.length > 0) summaries.schedule(room);
  };
