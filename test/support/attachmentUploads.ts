import sharp from 'sharp';
import { AttachmentSchema, type Attachment } from '../../shared/models/attachment.ts';
import type { TestServer, TestUser } from './serverHarness.ts';

/** How tests upload: the raw bytes as the body, the declared type as Content-Type, the name in `?name=`. */
export async function upload(
  t: TestServer,
  user: TestUser | null,
  roomId: string,
  body: Uint8Array | ReadableStream<Uint8Array>,
  { type = 'application/octet-stream', name }: { type?: string; name?: string } = {},
): Promise<{ status: number; body: unknown; headers: Headers }> {
  const query = name === undefined ? '' : `?name=${encodeURIComponent(name)}`;
  const res = await fetch(`${t.url}/api/rooms/${roomId}/attachments${query}`, {
    method: 'POST',
    headers: { 'content-type': type, ...(user ? { authorization: `Bearer ${user.token}` } : {}) },
    body,
    // A stream body is sent chunked (no Content-Length): the server counts as it reads.
    ...(body instanceof ReadableStream ? { duplex: 'half' } : {}),
  } as RequestInit);
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : null, headers: res.headers };
}

/** An upload that must succeed: its Attachment. */
export async function uploaded(t: TestServer, user: TestUser, roomId: string, body: Uint8Array, opts: { type?: string; name?: string } = {}): Promise<Attachment> {
  const res = await upload(t, user, roomId, body, opts);
  if (res.status !== 201) throw new Error(`upload failed: ${res.status} ${JSON.stringify(res.body)}`);
  return AttachmentSchema.parse(res.body);
}

/** GET a path of the API as `user` (or nobody), with extra headers; the body as bytes. */
export async function download(t: TestServer, user: TestUser | null, path: string, headers: Record<string, string> = {}): Promise<{ status: number; bytes: Buffer; headers: Headers }> {
  const res = await fetch(t.url + path, { headers: { ...headers, ...(user ? { authorization: `Bearer ${user.token}` } : {}) } });
  return { status: res.status, bytes: Buffer.from(await res.arrayBuffer()), headers: res.headers };
}

/** A real PNG of `width` x `height` (with an alpha channel when `alpha`), made by sharp. */
export function pngOf(width: number, height: number, alpha = false): Promise<Buffer> {
  return sharp({ create: { width, height, channels: alpha ? 4 : 3, background: alpha ? { r: 200, g: 30, b: 30, alpha: 0.5 } : { r: 20, g: 120, b: 220 } } })
    .png()
    .toBuffer();
}

/** A stream of `total` bytes in `chunk`-byte pieces, made as read (for chunked uploads). */
export function byteStream(total: number, chunk = 64 * 1024, fill = 0x61): ReadableStream<Uint8Array> {
  let sent = 0;
  return new ReadableStream<Uint8Array>({
    pull(controller) {
      if (sent >= total) {
        controller.close();
        return;
      }
      const n = Math.min(chunk, total - sent);
      sent += n;
      controller.enqueue(new Uint8Array(n).fill(fill));
    },
  });
}
