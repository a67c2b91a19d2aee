import type { TokenVerifier } from './auth/TokenVerifier.ts';
import type { Logger } from './log.ts';
import type { PresenceTracker } from './presence/PresenceTracker.ts';
import type { DirectoryApi } from './storage/DirectoryApi.ts';
import type { ConnectionSlots } from './ws/ConnectionSlots.ts';
import type { RoomRegistry } from './sync/RoomRegistry.ts';
import type { SyncLimits } from './limits/SyncLimits.ts';
import type { UserFeed } from './feed/UserFeed.ts';
import type { StoredDocs } from './sync/StoredDocs.ts';
import type { ChannelRouter } from './sync/ChannelRouter.ts';

/** What each socket endpoint (sync, commands) is built from; ParleyServer wires one set for both. */
export interface EndpointDeps {
  tokens: TokenVerifier;
  /** The directory's asynchronous face (SQLite or PostgreSQL). */
  directory: DirectoryApi;
  /**
   * A user's display name, read synchronously: command answers and room events are rendered in
   * one synchronous step after a commit (RoomEventFeed derives them inside a Yjs transaction).
   */
  userName: (userId: string) => string | null;
  registry: RoomRegistry;
  presence: PresenceTracker;
  logger: Logger;
  /** PARLEY_MAX_FRAME_BYTES: the largest frame an endpoint reads. */
  maxFrameBytes: number;
  /** Rate limits (PARLEY_RATE_*), per-user cap, send-buffer limit. */
  limits: SyncLimits;
  /** One cap per user across both endpoints. */
  slots: ConnectionSlots;
  /** The user feed served on the multiplexed socket's `feed` channel; none: that channel is refused as an unknown room. */
  feed?: UserFeed;
  /** Sealed segments served from storage without loading them (RoomAttachment); none: every document is loaded. */
  storedSegments?: StoredDocs;
  /** Several nodes: which node serves a document's channel (docs/scale-out.md); none: every channel is local. */
  router?: ChannelRouter;
}
