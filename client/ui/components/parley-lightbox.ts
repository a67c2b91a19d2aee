import { LitElement, css, html, nothing } from 'lit';
import type { Attachment } from '../../../shared/models/attachment.ts';
import { attachmentUrls } from '../attachments/AttachmentUrls.ts';
import { formatBytes } from '../format/formatBytes.ts';
import { icons } from '../format/icons.ts';
import { base, tokens } from '../theme.ts';
import { downloadAttachment } from '../attachments/downloadAttachment.ts';

/**
 * An image at full size over the page: a modal `<dialog>` (Escape and a click outside the image
 * close it, focus stays inside while open), with the file's name, size and a download button.
 */
export class ParleyLightbox extends LitElement {
  static override properties = {
    attachment: { state: true },
    url: { state: true },
    error: { state: true },
  };
  declare attachment: Attachment | null;
  declare url: string | null;
  declare error: string | null;

  constructor() {
    super();
    this.attachment = null;
    this.url = null;
    this.error = null;
  }

  static override styles = [
    tokens,
    base,
    css`
      dialog {
        max-width: 96vw;
        max-height: 96vh;
        padding: 0;
        border: 0;
        border-radius: var(--radius-lg);
        background: #111;
        color: #fff;
      }
      dialog::backdrop {
        background: rgb(0 0 0 / 75%);
      }
      header {
        display: flex;
        align-items: center;
        gap: 8px;
        padding: 8px 8px 8px 14px;
        font-size: 13px;
      }
      header .name {
        flex: 1;
        overflow: hidden;
        text-overflow: ellipsis;
        white-space: nowrap;
      }
      header .icon-button {
        color: #fff;
      }
      img {
        display: block;
        max-width: 96vw;
        max-height: calc(96vh - 48px);
        margin: 0 auto;
      }
      .status {
        padding: 40px 60px;
      }
    `,
  ];

  /** Opens on `attachment`, fetching the full image. */
  async show(attachment: Attachment): Promise<void> {
    [this.attachment, this.url, this.error] = [attachment, null, null];
    await this.updateComplete;
    this.renderRoot.querySelector('dialog')?.showModal();
    try {
      const url = await attachmentUrls()?.get(attachment);
      if (this.attachment === attachment) this.url = url ?? null;
    } catch (error) {
      if (this.attachment === attachment) this.error = error instanceof Error ? error.message : String(error);
    }
  }

  close(): void {
    this.renderRoot.querySelector('dialog')?.close();
  }

  override render() {
    const a = this.attachment;
    return html`<dialog aria-label=${a ? `Image ${a.name}` : 'Image'} data-testid="lightbox" @click=${this.#backdrop} @close=${() => (this.attachment = null)}>
      ${a
        ? html`<header>
              <span class="name">${a.name} · ${formatBytes(a.size)}</span>
              <button class="icon-button" aria-label="Download" title="Download" @click=${() => void downloadAttachment(a)}>${icons.download(18)}</button>
              <button class="icon-button" aria-label="Close" title="Close" @click=${() => this.close()}>${icons.x(18)}</button>
            </header>
            ${this.url ? html`<img src=${this.url} alt=${a.name} />` : html`<div class="status" role="status">${this.error ?? 'Loading…'}</div>`}`
        : nothing}
    </dialog>`;
  }

  /** A click on the backdrop (the dialog element itself, outside its content) closes it. */
  #backdrop(event: MouseEvent): void {
    if (event.target === event.currentTarget) this.close();
  }
}
customElements.define('parley-lightbox', ParleyLightbox);
