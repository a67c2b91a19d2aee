/**
 * Per-connection and per-user limits of the sync endpoint. Every default is chosen so that no
 * legitimate chat client comes near it; each one bounds what a hostile client can cost the server.
 * The environment variables are in server/config.ts; the close codes in shared/protocol/closeCodes.ts.
 */
export interface SyncLimits {
  /**
   * Sync frames (step 1, step 2, update) a connection may send in a burst. A Parley client sends
   * one frame per local transaction (a message, a reaction, a read position) and its whole
   * offline backlog as ONE step-2 frame on reconnect, so 200 covers any human burst.
   */
  syncBurst: number;
  /** Sync frames per second a connection may sustain (refill rate of its bucket). */
  syncPerSecond: number;
  /**
   * Awareness (and query-awareness) frames a connection may send in a burst. Separate from sync
   * frames because a stock y-websocket client sends back every awareness change it receives, so
   * its awareness rate grows with the number of people in the room, unlike its update rate.
   */
  awarenessBurst: number;
  /** Awareness frames per second a connection may sustain. */
  awarenessPerSecond: number;
  /** Open connections one user may hold across all rooms, sync and command together (tabs x devices x rooms). */
  maxConnectionsPerUser: number;
  /**
   * Bytes that may wait in a connection's send buffer (ws.bufferedAmount) before the server sends
   * it more; over it, the reader is too slow and is closed (SlowConsumer). One frame larger than
   * this is still allowed on top (the initial sync of a big room), see SyncConnection.send.
   */
  maxBufferedBytes: number;
  /**
   * Documents one multiplexed socket (/ws/sync) may hold open at once; a channel opened past it is
   * refused with 4530 (the socket stays). Also the burst of channel opens and closes.
   */
  maxDocsPerConnection: number;
}

export const DEFAULT_SYNC_LIMITS: SyncLimits = {
  syncBurst: 200,
  syncPerSecond: 50,
  awarenessBurst: 1000,
  awarenessPerSecond: 200,
  maxConnectionsPerUser: 50,
  maxBufferedBytes: 4 * 1024 * 1024,
  maxDocsPerConnection: 1000,
};
