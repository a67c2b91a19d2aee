import { Hono } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import { except } from 'hono/combine';
import { ParleyError } from '../../shared/errors/errorCodes.ts';
import type { ApiDeps, ApiEnv } from './ApiDeps.ts';
import { UPLOAD_PATH, attachmentRoutes } from './attachmentRoutes.ts';
import { authRoutes } from './authRoutes.ts';
import { errorHandler, notFoundHandler } from './errorHandling.ts';
import { meRoutes } from './meRoutes.ts';
import { memberRoutes } from './memberRoutes.ts';
import { scrapeMetrics } from './metricsRoutes.ts';
import { muteRoutes } from './muteRoutes.ts';
import { presenceRoutes } from './presenceRoutes.ts';
import { requireAuth } from './requireAuth.ts';
import { roomRoutes } from './roomRoutes.ts';
import { searchRoutes } from './searchRoutes.ts';
import { userRoutes } from './userRoutes.ts';
import { webAppRoutes } from './webAppRoutes.ts';

/**
 * Largest request body. The biggest legitimate one is a room created with its 1,000 initial
 * members (about 60 KB) plus extra_metadata.
 */
export const MAX_BODY_BYTES = 256 * 1024;

/**
 * The REST API (snake_case JSON, as the chat API it follows). Everything under /api needs a
 * bearer token except /api/auth/*; /healthz is for load balancers, /metrics for Prometheus
 * (its own token, if any).
 */
export function createApi(deps: ApiDeps): Hono<ApiEnv> {
  const app = new Hono<ApiEnv>();
  app.onError(errorHandler(deps.logger));
  app.notFound(notFoundHandler);

  app.get('/healthz', (c) => c.json({ ok: true }));
  if (deps.metrics) app.get('/metrics', scrapeMetrics(deps.metrics));

  // An attachment upload streams its body to the blob store under its own limits
  // (PARLEY_ATTACHMENT_MAX_BYTES, the quota): the JSON limit is not for it.
  app.use(
    '/api/*',
    except((c) => c.req.method === 'POST' && UPLOAD_PATH.test(c.req.path), bodyLimit({
      maxSize: MAX_BODY_BYTES,
      onError: () => {
        throw new ParleyError('payload_too_large', `request body over ${MAX_BODY_BYTES} bytes`);
      },
    })),
  );
  // Authentication runs before routing reaches a handler, so an unknown /api path answers
  // 401 to strangers: the route list is not probed without a token.
  app.use('/api/*', except('/api/auth/*', requireAuth(deps)));

  app.route('/api/auth', authRoutes(deps));
  app.route('/api/me', meRoutes(deps));
  app.route('/api/users', userRoutes(deps));
  app.route('/api/presence', presenceRoutes(deps));
  app.route('/api/rooms', roomRoutes(deps));
  app.route('/api/rooms/:roomId', memberRoutes(deps));
  app.route('/api/rooms/:roomId', muteRoutes(deps));
  if (deps.attachments) app.route('/api/rooms/:roomId', attachmentRoutes(deps, deps.attachments));
  if (deps.search) app.route('/api/search', searchRoutes(deps, deps.search));
  if (deps.webAppDir) app.route('/', webAppRoutes(deps.webAppDir, deps.logger));
  return app;
}
