import { LitElement, css, html, nothing } from 'lit';
import { MAX_ATTACHMENTS_PER_MESSAGE } from '../../../shared/models/attachment.ts';
import { formatBytes } from '../format/formatBytes.ts';
import { icons } from '../format/icons.ts';
import { base, tokens } from '../theme.ts';

/**
 * The files attached to the composer's draft, as chips (images with a preview) each with a ×.
 * At most MAX_ATTACHMENTS_PER_MESSAGE: more are left out. `take()` hands them over for a send.
 */
export class ParleyDraftFiles extends LitElement {
  static override properties = { files: { state: true } };
  declare files: ReadonlyArray<{ readonly file: File; readonly preview: string | null }>;

  constructor() {
    super();
    this.files = [];
  }

  static override styles = [
    tokens,
    base,
    css`
      :host {
        display: flex;
        flex-wrap: wrap;
        gap: 6px;
      }
      :host([has-files]) {
        margin-bottom: 6px;
      }
      .chip {
        display: flex;
        align-items: center;
        gap: 6px;
        max-width: 240px;
        padding: 4px 4px 4px 6px;
        border: 1px solid var(--border);
        border-radius: var(--radius);
        background: var(--bg-subtle);
        font-size: 12px;
      }
      .chip img {
        width: 32px;
        height: 32px;
        object-fit: cover;
        border-radius: 4px;
      }
      .name {
        overflow: hidden;
        text-overflow: ellipsis;
        white-space: nowrap;
      }
      .size {
        color: var(--text-faint);
        white-space: nowrap;
      }
    `,
  ];

  add(files: Iterable<File>): void {
    const all = [...this.files, ...[...files].map((file) => ({ file, preview: file.type.startsWith('image/') ? URL.createObjectURL(file) : null }))];
    this.#revoke(all.slice(MAX_ATTACHMENTS_PER_MESSAGE));
    this.files = all.slice(0, MAX_ATTACHMENTS_PER_MESSAGE);
  }

  /** The attached files, leaving the draft with none. */
  take(): File[] {
    const files = this.files.map((f) => f.file);
    this.#revoke(this.files);
    this.files = [];
    return files;
  }

  override disconnectedCallback(): void {
    super.disconnectedCallback();
    this.take();
  }

  override render() {
    this.toggleAttribute('has-files', this.files.length > 0);
    if (this.files.length === 0) return nothing;
    return html`${this.files.map(
      ({ file, preview }, i) => html`<div class="chip" data-testid="draft-file">
        ${preview ? html`<img src=${preview} alt="" />` : icons.file(16)}<span class="name" title=${file.name}>${file.name}</span><span class="size">${formatBytes(file.size)}</span>
        <button class="icon-button" type="button" aria-label=${`Remove ${file.name}`} @click=${() => this.#remove(i)}>${icons.x(13)}</button>
      </div>`,
    )}`;
  }

  #remove(index: number): void {
    this.#revoke(this.files.slice(index, index + 1));
    this.files = this.files.filter((_, i) => i !== index);
  }

  #revoke(files: ReadonlyArray<{ readonly preview: string | null }>): void {
    for (const { preview } of files) if (preview) URL.revokeObjectURL(preview);
  }
}
customElements.define('parley-draft-files', ParleyDraftFiles);
