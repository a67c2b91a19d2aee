import type { Logger } from '../log.ts';
import type { Directory } from '../storage/Directory.ts';
import type { RoomRegistry } from '../sync/RoomRegistry.ts';
import type { CommandFailure } from './CommandFailure.ts';
import type { RoomFeeds } from './RoomFeeds.ts';

/** What command handlers need from the server. */
export interface CommandDeps {
  readonly directory: Directory;
  readonly registry: RoomRegistry;
  readonly feeds: RoomFeeds;
  readonly logger: Logger;
  /** See RoomSubscription. */
  readonly typingTimeoutMs: number;
  readonly nameOf: (userId: string) => string | null;
}

/** A command's answer: the success `data`, or a failure. */
export type Outcome = { readonly ok: true; readonly data: object } | CommandFailure;
