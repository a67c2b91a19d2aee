import type { Logger } from '../log.ts';
import type { AccessGuard } from '../access/AccessGuard.ts';
import type { DirectoryApi } from '../storage/DirectoryApi.ts';
import type { RoomRegistry } from '../sync/RoomRegistry.ts';
import type { CommandFailure } from './CommandFailure.ts';
import type { RoomFeeds } from './RoomFeeds.ts';

/** What command handlers need from the server. */
export interface CommandDeps {
  readonly directory: DirectoryApi;
  /** Membership checks (the directory's later state wins over a check it overlapped). */
  readonly access: AccessGuard;
  /** Rechecks a member's access after something may have slipped past a check (CommandServer.recheckMember). */
  readonly recheck: (roomId: string, userId: string) => void;
  readonly registry: RoomRegistry;
  readonly feeds: RoomFeeds;
  readonly logger: Logger;
  /** See RoomSubscription. */
  readonly typingTimeoutMs: number;
  readonly nameOf: (userId: string) => string | null;
}

/** A command's answer: the success `data`, or a failure. */
export type Outcome = { readonly ok: true; readonly data: object } | CommandFailure;
