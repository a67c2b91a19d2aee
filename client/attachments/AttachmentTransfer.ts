import { AttachmentSchema, type Attachment } from '../../shared/models/attachment.ts';
import { ClientError } from '../errors/ClientError.ts';
import { apiErrorOf } from '../api/RestClient.ts';
import type { TokenProvider } from '../sync/RoomConnection.ts';

/*
 * The attachment routes as the SDK calls them (docs/attachments.md): the one place that knows
 * their paths, headers and answers. Uploads send the raw bytes, so a browser reports progress
 * through XMLHttpRequest (fetch has no upload progress, and streamed fetch bodies need HTTP/2);
 * elsewhere (Node) fetch carries them and progress jumps from 0 to done.
 */

/** Bytes sent so far, of `total`. */
export type UploadProgress = (sent: number, total: number) => void;

export interface UploadRequest {
  readonly url: string;
  readonly headers: Readonly<Record<string, string>>;
  readonly body: Uint8Array;
  readonly onProgress: UploadProgress;
  readonly signal?: AbortSignal;
}

/** Sends one upload; resolves with the answer's status and body (any status), rejects on a network failure. */
export type SendUpload = (request: UploadRequest) => Promise<{ readonly status: number; readonly body: string }>;

/** A file to upload: what a file input, a paste or a drop gives (a File), or bytes with a name. */
export interface UploadSource {
  readonly name: string;
  /** The type the browser says; the server sniffs its own from the bytes. */
  readonly declaredType: string;
  readonly bytes: Uint8Array;
}

export class AttachmentTransfer {
  readonly #baseUrl: string;
  readonly #getToken: TokenProvider;
  readonly #fetch: typeof fetch;
  readonly #send: SendUpload;

  constructor(baseUrl: string, getToken: TokenProvider, fetchImpl: typeof fetch = globalThis.fetch.bind(globalThis), send?: SendUpload) {
    this.#baseUrl = baseUrl.replace(/\/$/, '');
    this.#getToken = getToken;
    this.#fetch = fetchImpl;
    this.#send = send ?? (typeof XMLHttpRequest === 'function' ? sendWithXhr : sendWithFetch(fetchImpl));
  }

  /** POST /api/rooms/:roomId/attachments?name=…: the server's record of the stored file. */
  async upload(roomId: string, file: UploadSource, onProgress: UploadProgress = () => {}, signal?: AbortSignal): Promise<Attachment> {
    const url = `${this.#baseUrl}/api/rooms/${encodeURIComponent(roomId)}/attachments?${new URLSearchParams({ name: file.name })}`;
    for (let renew = false; ; renew = true) {
      const token = await this.#getToken({ renew });
      let answer: { status: number; body: string };
      try {
        answer = await this.#send({
          url,
          headers: { authorization: `Bearer ${token}`, 'content-type': file.declaredType || 'application/octet-stream' },
          body: file.bytes,
          onProgress,
          ...(signal ? { signal } : {}),
        });
      } catch (error) {
        if (signal?.aborted) throw new ClientError('closed', 'the upload was cancelled', error);
        throw new ClientError('network', `uploading ${file.name}: ${error instanceof Error ? error.message : String(error)}`, error);
      }
      if (answer.status === 401 && !renew) continue;
      const json = parseJson(answer.body);
      if (answer.status < 200 || answer.status > 299) throw apiErrorOf(answer.status, json, `uploading ${file.name}`);
      const parsed = AttachmentSchema.safeParse(json);
      if (!parsed.success) throw new ClientError('invalid_data', `uploading ${file.name}: unexpected answer (${parsed.error.issues[0]?.message ?? 'invalid'})`);
      return parsed.data;
    }
  }

  /** The bytes of an attachment (or its thumbnail), fetched with the user's token. */
  async download(attachment: Pick<Attachment, 'url' | 'thumbnail_url'>, { thumbnail = false }: { readonly thumbnail?: boolean } = {}): Promise<Blob> {
    const path = thumbnail && attachment.thumbnail_url !== null ? attachment.thumbnail_url : attachment.url;
    for (let renew = false; ; renew = true) {
      const token = await this.#getToken({ renew });
      let res: Response;
      try {
        res = await this.#fetch(this.#baseUrl + path, { headers: { authorization: `Bearer ${token}` } });
      } catch (error) {
        throw new ClientError('network', `downloading ${path}: ${error instanceof Error ? error.message : String(error)}`, error);
      }
      if (res.status === 401 && !renew) continue;
      if (!res.ok) throw apiErrorOf(res.status, parseJson(await res.text().catch(() => '')), `downloading ${path}`);
      return res.blob();
    }
  }
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return null;
  }
}

const sendWithFetch =
  (fetchImpl: typeof fetch): SendUpload =>
  async ({ url, headers, body, onProgress, signal }) => {
    onProgress(0, body.byteLength);
    const res = await fetchImpl(url, { method: 'POST', headers, body: new Blob([body.slice()]), ...(signal ? { signal } : {}) });
    const text = await res.text();
    onProgress(body.byteLength, body.byteLength);
    return { status: res.status, body: text };
  };

const sendWithXhr: SendUpload = ({ url, headers, body, onProgress, signal }) =>
  new Promise((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    xhr.open('POST', url);
    for (const [name, value] of Object.entries(headers)) xhr.setRequestHeader(name, value);
    xhr.upload.onprogress = (event) => onProgress(event.loaded, event.lengthComputable ? event.total : body.byteLength);
    xhr.onload = () => resolve({ status: xhr.status, body: xhr.responseText });
    xhr.onerror = () => reject(new Error('network error'));
    xhr.onabort = () => reject(new Error('aborted'));
    signal?.addEventListener('abort', () => xhr.abort(), { once: true });
    // A copy into a fresh ArrayBuffer: send() takes a BufferSource, and a view's buffer may be larger.
    xhr.send(new Blob([body.slice()]));
  });
