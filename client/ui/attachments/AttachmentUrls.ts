import type { Attachment } from '../../../shared/models/attachment.ts';

/** What fetches an attachment's bytes with the user's token (ChatClient.downloadAttachment). */
export type AttachmentFetcher = (attachment: Pick<Attachment, 'url' | 'thumbnail_url'>, opts: { readonly thumbnail?: boolean }) => Promise<Blob>;

/** Object URLs kept at most; the oldest is revoked past it (a long scroll back does not keep every image). */
const MAX_URLS = 200;

/**
 * Object URLs for attachments. The attachment routes want the user's bearer token, which an
 * `<img src>` cannot send, so the web app fetches the bytes and shows them from a `blob:` URL.
 * The bytes behind an attachment URL never change (it names one upload), so each is fetched once
 * and shared by every row that shows it, oldest dropped first.
 */
export class AttachmentUrls {
  readonly #fetch: AttachmentFetcher;
  readonly #urls = new Map<string, Promise<string>>();

  constructor(fetcher: AttachmentFetcher) {
    this.#fetch = fetcher;
  }

  /** A `blob:` URL of the attachment (or its thumbnail); rejects as the download does. */
  get(attachment: Pick<Attachment, 'url' | 'thumbnail_url'>, thumbnail = false): Promise<string> {
    const key = thumbnail && attachment.thumbnail_url ? attachment.thumbnail_url : attachment.url;
    const known = this.#urls.get(key);
    if (known) {
      // Most recently used goes last, so eviction takes the least recently used.
      this.#urls.delete(key);
      this.#urls.set(key, known);
      return known;
    }
    const url = this.#fetch(attachment, { thumbnail }).then((blob) => URL.createObjectURL(blob));
    url.catch(() => this.#urls.delete(key));
    this.#urls.set(key, url);
    this.#evict();
    return url;
  }

  /** Revokes every URL (signing out). */
  clear(): void {
    for (const url of this.#urls.values()) void url.then((u) => URL.revokeObjectURL(u), () => undefined);
    this.#urls.clear();
  }

  #evict(): void {
    while (this.#urls.size > MAX_URLS) {
      const [oldest] = this.#urls.keys();
      if (oldest === undefined) return;
      const url = this.#urls.get(oldest);
      this.#urls.delete(oldest);
      void url?.then((u) => URL.revokeObjectURL(u), () => undefined);
    }
  }
}

let current: AttachmentUrls | null = null;

/** The signed-in client's attachment URLs (set by the session; null signed out). */
export function attachmentUrls(): AttachmentUrls | null {
  return current;
}

export function setAttachmentFetcher(fetcher: AttachmentFetcher | null): void {
  current?.clear();
  current = fetcher ? new AttachmentUrls(fetcher) : null;
}
