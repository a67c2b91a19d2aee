import { fileTypeFromBuffer } from 'file-type';
import { MimeTypeSchema } from '../../shared/models/attachment.ts';

/** What bytes nothing recognizes are stored as, unless the sender declared a safe text type. */
export const FALLBACK_MIME_TYPE = 'application/octet-stream';

/**
 * Declared types kept for bytes `file-type` cannot identify (it recognizes binary formats by
 * their magic numbers, not text): plain text formats a browser never runs or renders as a
 * document. HTML, SVG, XML and JavaScript are not here: declared that way, unidentified bytes
 * become application/octet-stream (and every type outside the inline list is served as a
 * download anyway: attachmentHeaders.ts).
 */
export const SAFE_TEXT_TYPES: ReadonlySet<string> = new Set(['text/plain', 'text/csv', 'text/tab-separated-values', 'text/markdown', 'application/json']);

/**
 * The type an upload is stored and served as (docs/attachments.md, "Type sniffing"): what
 * `file-type` finds in the first bytes (a PNG declared text/html is image/png); for bytes it
 * cannot identify, the declared type when it is a safe text type, else application/octet-stream.
 * The sender's header is never trusted for anything a browser could execute.
 */
export async function sniffMimeType(head: Uint8Array, declared: string | null): Promise<string> {
  const found = await fileTypeFromBuffer(head);
  if (found) {
    const mime = MimeTypeSchema.safeParse(found.mime.toLowerCase());
    return mime.success ? mime.data : FALLBACK_MIME_TYPE;
  }
  return declared !== null && SAFE_TEXT_TYPES.has(declared) ? declared : FALLBACK_MIME_TYPE;
}
