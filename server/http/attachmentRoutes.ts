import { Readable } from 'node:stream';
import type { ReadableStream as WebReadableStream } from 'node:stream/web';
import { Hono, type Context } from 'hono';
import { z } from 'zod';
import { ParleyError } from '../../shared/errors/errorCodes.ts';
import { AttachmentIdSchema, MimeTypeSchema, toAttachment, type Attachment } from '../../shared/models/attachment.ts';
import { attachmentName } from '../attachments/attachmentName.ts';
import type { Attachments } from '../attachments/Attachments.ts';
import type { BlobRead } from '../blobs/BlobStore.ts';
import { refOf, type AttachmentRecord } from '../storage/AttachmentRepo.ts';
import { servedFileHeaders, matchesIfNoneMatch, etagOf } from './attachmentHeaders.ts';
import type { ApiDeps, ApiEnv } from './ApiDeps.ts';
import { parseRange } from './byteRange.ts';
import { parsePathParam, parseQuery } from './parseRequest.ts';
import { requireActiveMember, roomIdParam } from './roomAccess.ts';

/** `?name=` of an upload: the file name to record (attachmentName.ts cleans it). */
const UploadQuerySchema = z.object({ name: z.string().max(4096).optional() });

/** The headers an upload reads: both are hints or early checks, never trusted for the type. */
const UploadHeadersSchema = z.object({
  'content-length': z
    .string()
    .regex(/^\d{1,15}$/)
    .transform(Number)
    .optional()
    .catch(undefined),
  // `type/subtype; params` -> `type/subtype`, lowercase; anything else counts as not declared.
  'content-type': z
    .string()
    .transform((v) => v.split(';')[0]!.trim().toLowerCase())
    .pipe(MimeTypeSchema)
    .optional()
    .catch(undefined),
});

/** The path of an upload: POST /api/rooms/:roomId/attachments (exempt from the JSON body limit). */
export const UPLOAD_PATH = /^\/api\/rooms\/[^/]+\/attachments\/?$/;

/**
 * /api/rooms/:roomId/attachments (docs/attachments.md): upload the raw bytes, download them with
 * Range, ETag and safe headers, and the image thumbnail. Active members of the room only.
 */
export function attachmentRoutes(deps: ApiDeps, attachments: Attachments): Hono<ApiEnv> {
  const { directory } = deps;
  const app = new Hono<ApiEnv>();

  app.post('/attachments', async (c) => {
    const roomId = roomIdParam(c);
    const userId = c.var.user.id;
    await requireActiveMember(directory, roomId, userId);
    const { name } = parseQuery(c, UploadQuerySchema);
    const headers = UploadHeadersSchema.parse(c.req.header());
    const contentLength = headers['content-length'] ?? null;
    try {
      const record = await attachments.upload({
        roomId,
        uploaderId: userId,
        body: c.req.raw.body ? Readable.fromWeb(c.req.raw.body as unknown as WebReadableStream<Uint8Array>) : emptyBody(),
        declaredType: headers['content-type'] ?? null,
        name: attachmentName(name),
        contentLength,
      });
      // Removed while the bytes arrived: the record stays unreferenced and garbage collection takes it.
      await requireActiveMember(directory, roomId, userId);
      return c.json(toAttachment(roomId, refOf(record)) satisfies Attachment, 201);
    } catch (err) {
      // The rest of a refused body is not read: closing the connection spares draining it.
      if (err instanceof ParleyError && err.status === 413) c.header('Connection', 'close');
      throw err;
    }
  });

  app.get('/attachments/:id', async (c) => {
    const record = await findRecord(c, deps);
    const headers = servedFileHeaders(record.mimeType, record.name, record.blobKey);
    if (matchesIfNoneMatch(c.req.header('If-None-Match'), etagOf(record.blobKey))) return notModified(headers);
    // If-Range with another validator: the file changed from the client's view, so send it whole.
    const ifRange = c.req.header('If-Range');
    const range = ifRange !== undefined && ifRange !== etagOf(record.blobKey) ? { kind: 'whole' as const } : parseRange(c.req.header('Range'), record.size);
    if (range.kind === 'unsatisfiable') {
      c.header('Content-Range', `bytes */${record.size}`);
      throw new ParleyError('range_not_satisfiable', `the file has ${record.size} bytes`);
    }
    const read = await attachments.read(record, range.kind === 'range' ? { start: range.start, end: range.end } : undefined);
    if (!read) throw missingBlob(deps, record);
    if (range.kind === 'range') {
      return streamed(read, 206, { ...headers, 'Content-Range': `bytes ${range.start}-${range.end}/${read.size}`, 'Content-Length': String(range.end - range.start + 1) });
    }
    return streamed(read, 200, { ...headers, 'Content-Length': String(read.size) });
  });

  app.get('/attachments/:id/thumbnail', async (c) => {
    const record = await findRecord(c, deps);
    if (record.thumbnailKey === null || record.thumbnailType === null) throw new ParleyError('not_found', 'this attachment has no thumbnail (only images sharp can decode have one)');
    const headers = servedFileHeaders(record.thumbnailType, `thumbnail-${record.name}`, record.thumbnailKey);
    if (matchesIfNoneMatch(c.req.header('If-None-Match'), etagOf(record.thumbnailKey))) return notModified(headers);
    const read = await attachments.readThumbnail(record);
    if (!read) throw missingBlob(deps, record);
    return streamed(read, 200, { ...headers, 'Content-Length': String(read.size) });
  });

  return app;
}

/** The record of `:id` in `:roomId`, for an active member: 404 for an unknown id or one of another room. */
async function findRecord(c: Context<ApiEnv>, deps: ApiDeps): Promise<AttachmentRecord> {
  const roomId = roomIdParam(c);
  await requireActiveMember(deps.directory, roomId, c.var.user.id);
  const id = parsePathParam(c, 'id', AttachmentIdSchema, 'attachment');
  const record = await deps.directory.attachments.get(id);
  if (!record || record.roomId !== roomId) throw new ParleyError('not_found', 'no such attachment in this room');
  return record;
}

function missingBlob(deps: ApiDeps, record: AttachmentRecord): Error {
  deps.logger.error({ attachmentId: record.id, key: record.blobKey }, 'attachments: a record names a blob the store does not have');
  return new Error(`blob of attachment ${record.id} is missing`);
}

function streamed(read: BlobRead, status: 200 | 206, headers: Record<string, string>): Response {
  const body = Readable.toWeb(read.stream) as WebReadableStream<Uint8Array>;
  return new Response(body as unknown as ReadableStream<Uint8Array>, { status, headers });
}

function notModified(headers: Record<string, string>): Response {
  const { ETag, 'Cache-Control': cache } = headers;
  return new Response(null, { status: 304, headers: { ETag: ETag ?? '', 'Cache-Control': cache ?? '' } });
}

async function* emptyBody(): AsyncGenerator<Uint8Array> {}
