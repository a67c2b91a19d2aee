import type { TokenService } from '../auth/TokenService.ts';
import type { AuthUser, TokenVerifier } from '../auth/TokenVerifier.ts';
import type { Logger } from '../log.ts';
import type { PresenceTracker } from '../presence/PresenceTracker.ts';
import type { DirectoryApi } from '../storage/DirectoryApi.ts';
import type { UserRateLimiter } from '../limits/UserRateLimiter.ts';
import type { SearchWorker } from '../search/SearchWorker.ts';
import type { Attachments } from '../attachments/Attachments.ts';

/**
 * How the REST API tells the sync layer that access may have changed. Called after the
 * change is committed; a throwing callback is logged and does not fail the request (the
 * change already happened).
 */
export interface AccessNotifier {
  /** That user's membership in the room was added, reactivated, deactivated or changed role. */
  membershipChanged(roomId: string, userId: string): void;
  /** The room itself was created or changed (name, metadata, activated or deactivated). */
  roomChanged(roomId: string): void;
  /** That member changed their own setting of the room (mute): their devices follow through the user feed. */
  memberSettingsChanged?(roomId: string, userId: string): void;
}

/** GET /metrics: the server's metrics in the Prometheus text format (README, "Metrics"). */
export interface MetricsEndpoint {
  /** Every series, read now, with its Content-Type. */
  scrape(): Promise<{ contentType: string; text: string }>;
  /** When set (PARLEY_METRICS_TOKEN), a scrape must send `Authorization: Bearer <token>`; null: open. */
  token: string | null;
}

export interface ApiDeps {
  /**
   * Users, rooms, members, presence and attachment records, on either backend: every handler
   * awaits it, and its check-then-write transactions work only through the `tx` they are handed.
   */
  directory: DirectoryApi;
  tokens: TokenVerifier;
  /** Mints dev-login tokens (the built-in HS256 service, which `tokens` also accepts). */
  devTokens: TokenService;
  /** Who is online (in memory); `statusChanged` tells presence listeners about PUT /api/me/status. */
  presence: PresenceTracker;
  logger: Logger;
  /** GET /api/search asks the full-text index's thread (docs/search.md); without it the route answers 404. */
  search?: SearchWorker;
  /** /api/rooms/:roomId/attachments (docs/attachments.md); without it those routes answer 404. */
  attachments?: Attachments;
  /** GET /metrics, which needs no user token; without it (PARLEY_METRICS=0) the route answers 404. */
  metrics?: MetricsEndpoint;
  /** POST /api/auth/dev-login: off unless explicitly enabled (anyone could sign in as anyone). */
  devLogin: { enabled: boolean; tokenTtlSeconds: number };
  /** Told after every membership or room change so the sync layer can close connections that lost access (removed/deactivated member, deactivated room) and refresh room presence. */
  access: AccessNotifier;
  /** The built web app served at `/` from the API's origin; none when null or absent. */
  webAppDir?: string | null;
  /** POST /api/rooms per user: over it, 429 `rate_limited` with Retry-After. */
  roomCreation: UserRateLimiter;
  /** Clock for stored timestamps (tests pin it); Date.now by default. */
  now?: () => number;
}

/** Hono's per-request context of the API: the authenticated user, set by requireAuth. */
export interface ApiEnv {
  Variables: { user: AuthUser };
}
