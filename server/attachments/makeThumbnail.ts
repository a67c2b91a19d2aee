import type { Readable } from 'node:stream';
import sharp from 'sharp';

/** A thumbnail's longer side, at most (smaller images keep their size). */
export const THUMBNAIL_MAX_PX = 480;
/**
 * Largest image decoded, in pixels (40 megapixels, e.g. 8000 x 5000): a decompression bomb (a
 * small PNG declaring 50,000 x 50,000) is refused from its header before any pixel is decoded,
 * and keeps its upload, with no thumbnail and no dimensions.
 */
export const MAX_INPUT_PIXELS = 40_000_000;
/** Largest side the API reports (AttachmentRefSchema's Dimension). */
const MAX_SIDE = 100_000;

/** Raster types sharp decodes here; never SVG (a document with scripts, and a rasterizer's attack surface). */
export const THUMBNAIL_SOURCE_TYPES: ReadonlySet<string> = new Set(['image/png', 'image/jpeg', 'image/gif', 'image/webp', 'image/avif']);

export interface Thumbnail {
  /** The original's pixel size as displayed (EXIF orientation applied). */
  readonly width: number;
  readonly height: number;
  readonly bytes: Buffer;
  readonly mimeType: 'image/jpeg' | 'image/png';
}

/**
 * A thumbnail of an image read from the blob store: at most THUMBNAIL_MAX_PX on its longer side,
 * PNG when the image has an alpha channel, else JPEG; an animated GIF's first frame. Null when
 * sharp cannot decode it or it is over MAX_INPUT_PIXELS. sharp does the work on libuv's thread
 * pool, off the event loop; it collects a streamed input in memory, which is why the caller runs
 * few of these at once.
 */
export async function makeThumbnail(source: Readable): Promise<Thumbnail | null> {
  const image = sharp({ limitInputPixels: MAX_INPUT_PIXELS, animated: false, failOn: 'error' });
  source.on('error', (err) => image.destroy(err));
  source.pipe(image);
  try {
    const meta = await image.metadata();
    const width = meta.autoOrient?.width ?? meta.width;
    const height = meta.autoOrient?.height ?? meta.height;
    if (!width || !height || width * height > MAX_INPUT_PIXELS || width > MAX_SIDE || height > MAX_SIDE) return null;
    const resized = image.rotate().resize(THUMBNAIL_MAX_PX, THUMBNAIL_MAX_PX, { fit: 'inside', withoutEnlargement: true });
    const png = meta.hasAlpha === true;
    const bytes = await (png ? resized.png() : resized.jpeg({ quality: 80 })).toBuffer();
    return { width, height, bytes, mimeType: png ? 'image/png' : 'image/jpeg' };
  } catch {
    // Not decodable (a truncated or disguised file), or over the pixel limit: no thumbnail.
    return null;
  } finally {
    source.destroy();
  }
}
