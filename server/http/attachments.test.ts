import { readdirSync } from 'node:fs';
import path from 'node:path';
import sharp from 'sharp';
import { afterEach, describe, expect, it } from 'vitest';
import { uuidv7 } from '../../shared/ids.ts';
import { ApiErrorBodySchema } from '../../shared/errors/errorCodes.ts';
import { startWithRoom, type TwoMemberRoom } from '../../test/support/serverHarness.ts';
import { byteStream, download, pngOf, upload, uploaded } from '../../test/support/attachmentUploads.ts';

/*
 * The attachment routes on a real server (port 0, a SQLite file and a blob directory in a temp
 * dir), over real HTTP: upload, download, headers, ranges, thumbnails, limits.
 */
let s: TwoMemberRoom;
afterEach(async () => {
  await s.t.dispose();
});

const codeOf = (body: unknown): string => ApiErrorBodySchema.parse(body).error.code;

/** Files under the blob store's fan-out directories (complete blobs), and in its tmp/. */
function blobFiles(dataDir: string): { blobs: string[]; tmp: string[] } {
  const root = path.join(dataDir, 'blobs');
  const all = readdirSync(root, { recursive: true, withFileTypes: true }).filter((d) => d.isFile());
  const rel = all.map((d) => path.relative(root, path.join(d.parentPath, d.name)));
  return { blobs: rel.filter((f) => !f.startsWith('tmp')), tmp: rel.filter((f) => f.startsWith('tmp')) };
}

describe('upload and download', () => {
  it('stores a PNG for a member, sniffed (declared text/html), and serves it to members only', async () => {
    s = await startWithRoom();
    const { t, ana, ben, roomId } = s;
    const png = await pngOf(1200, 600);
    const a = await uploaded(t, ana, roomId, png, { type: 'text/html', name: 'holiday.png' });
    expect(a).toMatchObject({ name: 'holiday.png', mime_type: 'image/png', size: png.byteLength, width: 1200, height: 600 });
    expect(a.url).toBe(`/api/rooms/${roomId}/attachments/${a.id}`);
    expect(a.thumbnail_url).toBe(`${a.url}/thumbnail`);

    const got = await download(t, ben, a.url);
    expect(got.status).toBe(200);
    expect(got.bytes.equals(png)).toBe(true);
    expect(got.headers.get('content-type')).toBe('image/png');
    expect(got.headers.get('content-disposition')).toBe(`inline; filename="holiday.png"; filename*=UTF-8''holiday.png`);
    expect(got.headers.get('x-content-type-options')).toBe('nosniff');
    expect(got.headers.get('content-security-policy')).toBe("default-src 'none'; sandbox");
    expect(got.headers.get('cache-control')).toBe('private, max-age=31536000, immutable');
    expect(got.headers.get('accept-ranges')).toBe('bytes');
    expect(got.headers.get('etag')).toMatch(/^"[0-9a-f]{64}"$/);

    const cara = await t.login('Cara');
    const outsider = await download(t, cara, a.url);
    expect(outsider.status).toBe(403);
    expect(codeOf(JSON.parse(outsider.bytes.toString()))).toBe('not_a_member');
    expect((await download(t, null, a.url)).status).toBe(401);
    expect((await download(t, { ...ana, token: 'nope' }, a.url)).status).toBe(401);
    expect((await upload(t, cara, roomId, png)).status).toBe(403);
    expect((await upload(t, null, roomId, png)).status).toBe(401);
    // Unknown ids, malformed ids, and ids of another room's uploads are all 404.
    expect((await download(t, ben, `/api/rooms/${roomId}/attachments/${uuidv7()}`)).status).toBe(404);
    expect((await download(t, ben, `/api/rooms/${roomId}/attachments/..%2F..%2Fparley.db`)).status).toBe(404);
    const other = await t.createRoom(ana, [cara]);
    const elsewhere = await uploaded(t, ana, other, png);
    expect((await download(t, ben, `/api/rooms/${roomId}/attachments/${elsewhere.id}`)).status).toBe(404);
    expect((await download(t, ana, `/api/rooms/${roomId}/attachments/${elsewhere.id}`)).status).toBe(404);
    expect((await download(t, cara, elsewhere.url)).status).toBe(200);
  });

  it('a member removed from the room gets 403 afterwards', async () => {
    s = await startWithRoom();
    const { t, ana, ben, roomId } = s;
    const a = await uploaded(t, ana, roomId, Buffer.from('minutes of the meeting'), { type: 'text/plain', name: 'minutes.txt' });
    expect((await download(t, ben, a.url)).status).toBe(200);
    expect((await t.api(ana, 'DELETE', `/api/rooms/${roomId}/members/${ben.id}`)).status).toBeLessThan(300);
    const after = await download(t, ben, a.url);
    expect(after.status).toBe(403);
    expect(codeOf(JSON.parse(after.bytes.toString()))).toBe('not_a_member');
  });

  it('serves HTML, SVG and other documents as downloads, never inline, with a sandboxing CSP', async () => {
    s = await startWithRoom();
    const { t, ana, ben, roomId } = s;
    const html = Buffer.from('<!doctype html><html><body><script>alert(document.cookie)</script></body></html>');
    const svg = Buffer.from('<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"><script>alert(2)</script></svg>');
    const xmlSvg = Buffer.from('<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg"><script>alert(3)</script></svg>');
    const cases = [
      { body: html, type: 'text/html', name: 'page.html', stored: 'application/octet-stream' },
      { body: svg, type: 'image/svg+xml', name: 'logo.svg', stored: 'application/octet-stream' },
      { body: xmlSvg, type: 'image/svg+xml', name: 'logo2.svg', stored: 'application/xml' },
      { body: Buffer.from('a,b\n1,2\n'), type: 'text/csv; charset=utf-8', name: 'data.csv', stored: 'text/csv' },
      { body: Buffer.from('%PDF-1.4\n%…'), type: 'application/pdf', name: 'Résumé "final".pdf', stored: 'application/pdf' },
    ];
    for (const c of cases) {
      const a = await uploaded(t, ana, roomId, c.body, { type: c.type, name: c.name });
      expect(a.mime_type, c.name).toBe(c.stored);
      expect(a.thumbnail_url).toBeNull();
      const got = await download(t, ben, a.url);
      expect(got.status).toBe(200);
      expect(got.headers.get('content-type')).toBe(c.stored);
      expect(got.headers.get('content-disposition')).toMatch(/^attachment; /);
      expect(got.headers.get('x-content-type-options')).toBe('nosniff');
      expect(got.headers.get('content-security-policy')).toBe("default-src 'none'; sandbox");
      expect((await download(t, ben, `${a.url}/thumbnail`)).status).toBe(404);
    }
    const pdf = await uploaded(t, ana, roomId, Buffer.from('%PDF-1.4\n'), { name: 'Résumé "final".pdf' });
    expect((await download(t, ben, pdf.url)).headers.get('content-disposition')).toBe(`attachment; filename="R_sum_ _final_.pdf"; filename*=UTF-8''R%C3%A9sum%C3%A9%20%22final%22.pdf`);
  });

  it('cleans names: slashes and control characters become _, long names are cut, none gives "file"', async () => {
    s = await startWithRoom();
    const { t, ana, roomId } = s;
    expect((await uploaded(t, ana, roomId, Buffer.from('x'), { name: '../../etc/passwd' })).name).toBe('.._.._etc_passwd');
    expect((await uploaded(t, ana, roomId, Buffer.from('x'), { name: 'a\u0000b\nc' })).name).toBe('a_b_c');
    expect((await uploaded(t, ana, roomId, Buffer.from('x'), { name: 'n'.repeat(400) })).name).toHaveLength(255);
    expect((await uploaded(t, ana, roomId, Buffer.from('x'))).name).toBe('file');
  });
});

describe('ranges and caching', () => {
  it('answers ranges with 206 and the bytes, 416 past the end, and 304 for a matching ETag', async () => {
    s = await startWithRoom();
    const { t, ana, ben, roomId } = s;
    const bytes = Buffer.from(Array.from({ length: 1000 }, (_, i) => i % 251));
    const a = await uploaded(t, ana, roomId, bytes);
    const range = async (value: string) => download(t, ben, a.url, { range: value });

    const first = await range('bytes=0-9');
    expect(first.status).toBe(206);
    expect(first.bytes.equals(bytes.subarray(0, 10))).toBe(true);
    expect(first.headers.get('content-range')).toBe('bytes 0-9/1000');
    expect(first.headers.get('content-length')).toBe('10');
    const middle = await range('bytes=500-');
    expect(middle.bytes.equals(bytes.subarray(500))).toBe(true);
    expect(middle.headers.get('content-range')).toBe('bytes 500-999/1000');
    const suffix = await range('bytes=-5');
    expect(suffix.bytes.equals(bytes.subarray(995))).toBe(true);
    const clipped = await range('bytes=990-5000');
    expect(clipped.headers.get('content-range')).toBe('bytes 990-999/1000');

    const past = await range('bytes=1000-');
    expect(past.status).toBe(416);
    expect(past.headers.get('content-range')).toBe('bytes */1000');
    expect(codeOf(JSON.parse(past.bytes.toString()))).toBe('range_not_satisfiable');
    // Several ranges, or a malformed header, are answered with the whole file.
    expect((await range('bytes=0-1,5-6')).status).toBe(200);
    expect((await range('lines=1-2')).bytes.length).toBe(1000);

    const etag = first.headers.get('etag')!;
    const cached = await download(t, ben, a.url, { 'if-none-match': etag });
    expect(cached.status).toBe(304);
    expect(cached.bytes.length).toBe(0);
    expect(cached.headers.get('etag')).toBe(etag);
    expect((await download(t, ben, a.url, { 'if-none-match': '"other"' })).status).toBe(200);
  });
});

describe('thumbnails', () => {
  it('makes a JPEG of at most 480 px for an opaque PNG, a PNG for one with alpha, none beyond raster images', async () => {
    s = await startWithRoom();
    const { t, ana, ben, roomId } = s;
    const wide = await uploaded(t, ana, roomId, await pngOf(1600, 900), { type: 'image/png' });
    const thumb = await download(t, ben, wide.thumbnail_url!);
    expect(thumb.status).toBe(200);
    expect(thumb.headers.get('content-type')).toBe('image/jpeg');
    expect(thumb.headers.get('content-disposition')).toMatch(/^inline; /);
    const meta = await sharp(thumb.bytes).metadata();
    expect(meta).toMatchObject({ format: 'jpeg', width: 480, height: 270 });

    const clear = await uploaded(t, ana, roomId, await pngOf(300, 200, true));
    const small = await download(t, ben, clear.thumbnail_url!);
    expect(small.headers.get('content-type')).toBe('image/png');
    expect(await sharp(small.bytes).metadata()).toMatchObject({ format: 'png', width: 300, height: 200, hasAlpha: true });

    // A PNG signature with nothing decodable behind it: stored as image/png, with no dimensions and no thumbnail.
    const broken = await uploaded(t, ana, roomId, Buffer.concat([(await pngOf(10, 10)).subarray(0, 40), Buffer.alloc(100)]));
    expect(broken).toMatchObject({ mime_type: 'image/png', width: null, height: null, thumbnail_url: null });
  });
});

describe('limits', () => {
  it('413 payload_too_large over the size limit, by Content-Length and by the streamed count, keeping nothing', async () => {
    s = await startWithRoom({ PARLEY_ATTACHMENT_MAX_BYTES: '100000' });
    const { t, ana, roomId } = s;
    const declared = await upload(t, ana, roomId, new Uint8Array(100_001));
    expect(declared.status).toBe(413);
    expect(codeOf(declared.body)).toBe('payload_too_large');
    const streamed = await upload(t, ana, roomId, byteStream(300_000, 16 * 1024));
    expect(streamed.status).toBe(413);
    expect(codeOf(streamed.body)).toBe('payload_too_large');
    expect(blobFiles(t.dataDir)).toEqual({ blobs: [], tmp: [] });
    // Exactly the limit is fine, streamed too, and the server goes on serving.
    expect((await upload(t, ana, roomId, byteStream(100_000, 16 * 1024))).status).toBe(201);
    expect((await upload(t, ana, roomId, new Uint8Array(100_000).fill(7))).status).toBe(201);
  });

  it('413 quota_exceeded past the quota of live uploads, per user', async () => {
    s = await startWithRoom({ PARLEY_ATTACHMENT_QUOTA_BYTES: '5000' });
    const { t, ana, ben, roomId } = s;
    await uploaded(t, ana, roomId, new Uint8Array(3000).fill(1));
    const declared = await upload(t, ana, roomId, new Uint8Array(3000).fill(2));
    expect(declared.status).toBe(413);
    expect(codeOf(declared.body)).toBe('quota_exceeded');
    const streamed = await upload(t, ana, roomId, byteStream(3000, 1000, 3));
    expect(streamed.status).toBe(413);
    expect(codeOf(streamed.body)).toBe('quota_exceeded');
    // What is left still fits, and Ben has his own quota.
    expect((await upload(t, ana, roomId, new Uint8Array(2000).fill(4))).status).toBe(201);
    expect((await upload(t, ben, roomId, new Uint8Array(3000).fill(5))).status).toBe(201);
  });
});
