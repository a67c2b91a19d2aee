import { LitElement, css, html, nothing } from 'lit';
import type { Attachment } from '../../../shared/models/attachment.ts';
import { attachmentUrls } from '../attachments/AttachmentUrls.ts';
import { downloadAttachment } from '../attachments/downloadAttachment.ts';
import { formatBytes } from '../format/formatBytes.ts';
import { icons } from '../format/icons.ts';
import { base, tokens } from '../theme.ts';
import './parley-lightbox.ts';
import type { ParleyLightbox } from './parley-lightbox.ts';

/** Largest box an inline image takes in the list, in CSS pixels. */
const MAX_W = 320;
const MAX_H = 240;

/** The box an image of `w`×`h` takes inline: its own size scaled into MAX_W×MAX_H, so the row's height is known before it loads. */
export function inlineBox(w: number, h: number): { width: number; height: number } {
  const scale = Math.min(1, MAX_W / w, MAX_H / h);
  return { width: Math.max(1, Math.round(w * scale)), height: Math.max(1, Math.round(h * scale)) };
}

/**
 * A message's attachments: images inline (their thumbnails, in a box of the image's shape so the
 * list does not jump as they load; a click opens the lightbox), every other file as a chip with
 * its name, size and a download button. Bytes come through the user's token (AttachmentUrls).
 */
export class ParleyAttachments extends LitElement {
  static override properties = {
    attachments: { attribute: false },
    thumbs: { state: true },
    failed: { state: true },
  };
  declare attachments: readonly Attachment[];
  /** Attachment id -> blob: URL of its thumbnail, once fetched. */
  declare thumbs: ReadonlyMap<string, string>;
  declare failed: ReadonlySet<string>;

  constructor() {
    super();
    this.attachments = [];
    this.thumbs = new Map();
    this.failed = new Set();
  }

  static override styles = [
    tokens,
    base,
    css`
      :host {
        display: flex;
        flex-wrap: wrap;
        gap: 6px;
        margin-top: 4px;
      }
      .image {
        display: block;
        padding: 0;
        border: 1px solid var(--border);
        border-radius: var(--radius);
        overflow: hidden;
        background: var(--bg-subtle);
      }
      .image img {
        display: block;
        width: 100%;
        height: 100%;
        object-fit: cover;
      }
      .image .missing {
        display: grid;
        place-items: center;
        width: 100%;
        height: 100%;
        font-size: 12px;
        color: var(--text-faint);
      }
      .file {
        display: flex;
        align-items: center;
        gap: 10px;
        max-width: 360px;
        padding: 8px 10px;
        border: 1px solid var(--border);
        border-radius: var(--radius);
        background: var(--bg);
      }
      .file .name {
        overflow: hidden;
        text-overflow: ellipsis;
        white-space: nowrap;
        font-weight: 600;
        font-size: 13px;
      }
      .file .size {
        font-size: 12px;
        color: var(--text-faint);
      }
      .file .meta {
        min-width: 0;
        flex: 1;
      }
    `,
  ];

  protected override updated(): void {
    const urls = attachmentUrls();
    if (!urls) return;
    for (const a of this.attachments) {
      if (a.thumbnail_url === null || this.thumbs.has(a.id) || this.failed.has(a.id)) continue;
      urls.get(a, true).then(
        (url) => (this.thumbs = new Map(this.thumbs).set(a.id, url)),
        () => (this.failed = new Set(this.failed).add(a.id)),
      );
    }
  }

  override render() {
    return html`${this.attachments.map((a) => (a.thumbnail_url !== null && a.width !== null && a.height !== null ? this.#image(a, a.width, a.height) : this.#file(a)))}
      <parley-lightbox></parley-lightbox>`;
  }

  #image(a: Attachment, w: number, h: number) {
    const box = inlineBox(w, h);
    const url = this.thumbs.get(a.id);
    return html`<button class="image" style="width:${box.width}px;height:${box.height}px" aria-label=${`Open image ${a.name}`} data-testid="attachment-image" @click=${() => this.#open(a)}>
      ${url ? html`<img src=${url} alt=${a.name} width=${box.width} height=${box.height} />` : html`<span class="missing">${this.failed.has(a.id) ? 'Image unavailable' : nothing}</span>`}
    </button>`;
  }

  #file(a: Attachment) {
    return html`<div class="file" data-testid="attachment-file">
      ${icons.file(22)}
      <div class="meta"><div class="name" title=${a.name}>${a.name}</div><div class="size">${formatBytes(a.size)} · ${a.mime_type}</div></div>
      <button class="icon-button" aria-label=${`Download ${a.name}`} title="Download" @click=${() => void downloadAttachment(a)}>${icons.download(17)}</button>
    </div>`;
  }

  #open(a: Attachment): void {
    this.renderRoot.querySelector<ParleyLightbox>('parley-lightbox')?.show(a);
  }
}
customElements.define('parley-attachments', ParleyAttachments);
