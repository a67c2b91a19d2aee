/**
 * `parley/server`: run Parley's sync server inside your own Node process.
 *
 * ```ts
 * import { createParleyServer } from 'parley/server';
 * const parley = createParleyServer({ dataDir: './data', verifyToken: async (token) => myAuth(token) });
 * await parley.listen(8787);            // or parley.attach(myHttpServer)
 * ```
 *
 * Every option defaults as its environment variable does for the `parley` CLI (README,
 * "Configuration"); `verifyToken` plugs in the host app's own authentication.
 */
export { createParleyServer, type ParleyServer, type ParleyServerOptions } from './ParleyServer.ts';
export { loadConfig, defaultConfig, ConfigError, CLI_USAGE, type Config } from './config.ts';
export type { AuthUser, TokenVerifier, VerifyToken } from './auth/TokenVerifier.ts';
export type { SyncLimits } from './limits/SyncLimits.ts';
export type { Logger } from './log.ts';
export { lowerHelperThreads } from './workers/lowerHelperThreads.ts';
export { CloseCode, type CloseCodeName, type CloseCodeValue } from '../shared/protocol/closeCodes.ts';
export { UPDATE_REFUSAL_CODES, type UpdateRefusalCode } from '../shared/protocol/updateRefusals.ts';
export { ParleyError, ERROR_STATUS, type ErrorCode } from '../shared/errors/errorCodes.ts';
// A host app receiving the notification webhook checks it with these (docs/notifications.md).
export { verifyWebhook, signWebhook } from './notify/webhookSignature.ts';
export type { WebhookSettings } from './notify/WebhookSender.ts';
export { ParleyNotificationSchema, WEBHOOK_HEADERS, type ParleyNotification } from '../shared/models/notification.ts';
