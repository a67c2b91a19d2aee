/**
 * Top-level message types on a /sync WebSocket (first varUint of every binary frame).
 * 0-3 are y-websocket's; Parley's additions use numbers stock clients ignore (y-websocket
 * logs "Unable to compute message" and drops unknown types without closing).
 */
export const MessageType = {
  /** y-protocols sync: step 1, step 2, update. */
  Sync: 0,
  /** y-protocols awareness update. */
  Awareness: 1,
  /** y-websocket auth message (permission denied + reason). */
  Auth: 2,
  /** y-websocket query-awareness. */
  QueryAwareness: 3,
  /** Parley: the server committed updates; carries its state vector after the commit. */
  Ack: 100,
  /** Parley: an error the server reports before closing (code, reason). */
  Error: 101,
  /** Parley: a segmented room's newest messages, sent with its head's step 2 (recentPage.ts). */
  Recent: 102,
} as const;
export type MessageTypeValue = (typeof MessageType)[keyof typeof MessageType];

/** The second varUint of a Sync frame (y-protocols/sync's messageYjsSyncStep1/2, messageYjsUpdate). */
export const SyncStep = {
  /** The sender's state vector: "send me what I lack". */
  Step1: 0,
  /** The answer to a step 1: everything the asker lacked, as one update. */
  Step2: 1,
  /** A live update. */
  Update: 2,
} as const;
export type SyncStepValue = (typeof SyncStep)[keyof typeof SyncStep];
