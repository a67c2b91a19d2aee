/**
 * Response headers of a served attachment (docs/attachments.md, "Serving"). The file is someone
 * else's upload served from the API's own origin, so nothing in it may run there: every type a
 * browser could execute or render as a document (HTML, SVG, XML, JavaScript, PDF, and anything
 * else not on the list below) is served as a download; the few types shown inline are media
 * types browsers only display. Either way `nosniff` stops the browser guessing another type, and
 * the CSP (`default-src 'none'; sandbox`) leaves a document opened anyway no script, no origin
 * and nothing to load.
 */

/** Types served `inline`: raster images, audio and video. Never image/svg+xml (a document with scripts). */
export const INLINE_TYPES: ReadonlySet<string> = new Set([
  'image/png',
  'image/jpeg',
  'image/gif',
  'image/webp',
  'image/avif',
  'image/bmp',
  'audio/mpeg',
  'audio/ogg',
  'audio/wav',
  'audio/webm',
  'audio/aac',
  'audio/flac',
  'audio/mp4',
  'video/mp4',
  'video/webm',
  'video/ogg',
  'video/quicktime',
]);

export const ATTACHMENT_CSP = "default-src 'none'; sandbox";
/** Content-addressed, so a URL's bytes never change: browsers may keep them for a year (private: behind a token). */
export const ATTACHMENT_CACHE_CONTROL = 'private, max-age=31536000, immutable';

/** RFC 5987 `ext-value` characters: everything else is percent-encoded (UTF-8). */
const encodeExtValue = (name: string): string =>
  encodeURIComponent(name).replace(/['()*]/g, (ch) => `%${ch.charCodeAt(0).toString(16).toUpperCase()}`);

/**
 * `inline` or `attachment`, with the name both as an ASCII fallback (RFC 6266 `filename`, any
 * character outside printable ASCII, a quote or a backslash replaced by `_`) and exactly
 * (`filename*=UTF-8''…`, RFC 5987), which every current browser prefers.
 */
export function contentDisposition(mimeType: string, name: string): string {
  const kind = INLINE_TYPES.has(mimeType) ? 'inline' : 'attachment';
  const ascii = name.replace(/[^\x20-\x7e]|["\\]/g, '_');
  return `${kind}; filename="${ascii}"; filename*=UTF-8''${encodeExtValue(name)}`;
}

/** The ETag of a blob: its sha256, which is its key. */
export const etagOf = (blobKey: string): string => `"${blobKey}"`;

/** Whether an If-None-Match header names this ETag (weak comparison, as RFC 9110 asks for it), or is `*`. */
export function matchesIfNoneMatch(header: string | undefined, etag: string): boolean {
  if (header === undefined) return false;
  return header.split(',').some((tag) => {
    const t = tag.trim();
    return t === '*' || t.replace(/^W\//, '') === etag;
  });
}

/** Headers every served attachment or thumbnail carries. */
export function servedFileHeaders(mimeType: string, name: string, blobKey: string): Record<string, string> {
  return {
    'Content-Type': mimeType,
    'Content-Disposition': contentDisposition(mimeType, name),
    'X-Content-Type-Options': 'nosniff',
    'Content-Security-Policy': ATTACHMENT_CSP,
    ETag: etagOf(blobKey),
    'Cache-Control': ATTACHMENT_CACHE_CONTROL,
    'Accept-Ranges': 'bytes',
  };
}
