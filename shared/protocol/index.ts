/**
 * `parley/protocol`: everything a client in another codebase needs to speak Parley's sync and
 * command endpoints: the frame codec, the awareness wire format and state schemas, endpoint
 * paths, close and refusal codes, the tab-to-tab messages, the JSON command schemas, and the
 * room-document layout with the operations that write it the way the server's validator accepts.
 * Browser-safe: nothing here imports Node.
 */
export * from './messageTypes.ts';
export * from './frames.ts';
export * from './muxFrames.ts';
export * from './awarenessUpdate.ts';
export * from './awarenessStates.ts';
export * from './endpoints.ts';
export * from './closeCodes.ts';
export * from './updateRefusals.ts';
export * from './tabMessages.ts';
export * from '../errors/errorCodes.ts';
export * from '../commands/webSocketCommand.ts';
export * from '../commands/webSocketResponse.ts';
export * from '../commands/roomEvent.ts';
export * as roomDoc from './roomDocument.ts';
export * from './recentPage.ts';
