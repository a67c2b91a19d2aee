import { z } from 'zod';

/**
 * The messages between the main thread (SearchWorker.ts) and the search worker thread
 * (searchWorkerMain.ts), in one place: each side parses what it receives with these schemas.
 * Requests are answered in the order they were sent, so a search or a check always sees every
 * write sent before it.
 */

/** Bytes as structured clone delivers them (any Uint8Array). */
const Bytes = z.custom<Uint8Array>((value) => value instanceof Uint8Array, 'expected bytes');

const SearchEntrySchema = z.object({
  roomId: z.string(),
  messageId: z.string(),
  senderId: z.string().nullable(),
  createdAt: z.number(),
  content: z.string(),
});

/** One change to the index; a `write` applies its changes in one transaction, in order. */
export const SearchOpSchema = z.discriminatedUnion('op', [
  /** SearchRepo.put: index the message as found in document `docName`. */
  z.object({ op: z.literal('put'), docName: z.string(), entry: SearchEntrySchema }),
  /** SearchRepo.remove: drop the message's row if document `docName` wrote it. */
  z.object({ op: z.literal('remove'), docName: z.string(), messageId: z.string() }),
  /** SearchRepo.drop: drop the message's row, whoever wrote it. */
  z.object({ op: z.literal('drop'), messageId: z.string() }),
  /** SearchRepo.recordIndexed. */
  z.object({ op: z.literal('record'), docName: z.string(), stateVector: Bytes }),
  /** SearchRepo.forgetIndexed. */
  z.object({ op: z.literal('forget'), docName: z.string() }),
]);
export type SearchOp = z.infer<typeof SearchOpSchema>;

export const SearchQuerySchema = z.object({
  /** parseSearchQuery's terms: each backend builds its query of them. */
  terms: z.array(z.object({ text: z.string(), phrase: z.boolean(), prefix: z.boolean() })),
  roomIds: z.array(z.string()),
  limit: z.number().int().min(1),
  offset: z.number().int().min(0),
});

export const SearchWorkerRequestSchema = z.discriminatedUnion('kind', [
  z.object({ id: z.number(), kind: z.literal('write'), ops: z.array(SearchOpSchema) }),
  /** A document loaded at `stateVector`: null if the index holds it as it is, else the ids indexed from it. */
  z.object({ id: z.number(), kind: z.literal('check'), docName: z.string(), stateVector: Bytes }),
  /** Which of `docNames` the index has never held whole (no state recorded). */
  z.object({ id: z.number(), kind: z.literal('unindexed'), docNames: z.array(z.string()) }),
  z.object({ id: z.number(), kind: z.literal('search'), query: SearchQuerySchema }),
  /** Close the file (the last request: the thread is stopped after its answer). */
  z.object({ id: z.number(), kind: z.literal('close') }),
]);
export type SearchWorkerRequest = z.infer<typeof SearchWorkerRequestSchema>;

/** A request as the main thread sends it: the worker adds nothing, the id is the client's. */
export type SearchWorkerAsk = SearchWorkerRequest extends infer R ? (R extends { id: number } ? Omit<R, 'id'> : never) : never;

export const SearchHitSchema = z.object({
  roomId: z.string(),
  messageId: z.string(),
  senderId: z.string().nullable(),
  createdAt: z.number(),
  marked: z.string(),
});

/** Every reply: its request's id, and either what it asked for or why it failed. */
export const SearchWorkerReplySchema = z.union([
  z.object({ id: z.number(), ok: z.literal(true), ids: z.array(z.string()).nullable().optional(), docNames: z.array(z.string()).optional(), hits: z.array(SearchHitSchema).optional() }),
  z.object({ id: z.number(), ok: z.literal(false), error: z.string() }),
]);
export type SearchWorkerReply = z.infer<typeof SearchWorkerReplySchema>;

/** The index the thread opens: SQLite's file of its own, or the PostgreSQL database (a pool of one, no migrations). */
export const SearchWorkerDataSchema = z.discriminatedUnion('backend', [
  z.object({ backend: z.literal('sqlite'), file: z.string() }),
  z.object({ backend: z.literal('postgres'), url: z.string(), queryTimeoutMs: z.number().int().positive().optional() }),
]);
export type SearchWorkerData = z.infer<typeof SearchWorkerDataSchema>;
