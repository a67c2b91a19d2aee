import { LitElement, css, html, nothing } from 'lit';
import type { PendingUpload } from '../../attachments/UploadQueue.ts';
import { formatBytes } from '../format/formatBytes.ts';
import { icons } from '../format/icons.ts';
import { base, tokens } from '../theme.ts';

export type UploadAction = { readonly action: 'retry' | 'discard'; readonly messageId: string };

/**
 * Messages waiting for their files, under the room's messages: each with its caption, its files,
 * a progress bar while it uploads, "Waiting for the network" while it cannot, and Retry / Discard
 * after a refusal. Emits `upload-action` (UploadAction).
 */
export class ParleyUploadList extends LitElement {
  static override properties = {
    uploads: { attribute: false },
    /** Whether the server is reachable (else waiting uploads say they wait for the network). */
    online: { type: Boolean },
  };
  declare uploads: readonly PendingUpload[];
  declare online: boolean;

  constructor() {
    super();
    this.uploads = [];
    this.online = true;
  }

  static override styles = [
    tokens,
    base,
    css`
      :host {
        display: block;
        padding: 0 16px;
      }
      .upload {
        margin: 4px 0;
        padding: 8px 10px;
        border: 1px solid var(--border);
        border-radius: var(--radius);
        background: var(--bg-subtle);
        font-size: 13px;
      }
      .upload.failed {
        border-color: var(--danger);
        background: var(--danger-soft);
      }
      .row {
        display: flex;
        align-items: center;
        gap: 8px;
      }
      .files {
        flex: 1;
        min-width: 0;
        overflow: hidden;
        text-overflow: ellipsis;
        white-space: nowrap;
      }
      .status {
        color: var(--text-muted);
        white-space: nowrap;
        font-variant-numeric: tabular-nums;
      }
      progress {
        width: 100%;
        height: 6px;
        margin-top: 6px;
        accent-color: var(--accent);
      }
      .caption {
        margin-top: 4px;
        white-space: pre-wrap;
        overflow-wrap: anywhere;
      }
      .reason {
        margin-top: 4px;
        color: var(--danger);
      }
      .actions button {
        padding: 3px 10px;
        border: 1px solid var(--border);
        border-radius: 6px;
        background: var(--bg);
        font-size: 12px;
      }
    `,
  ];

  override render() {
    if (this.uploads.length === 0) return nothing;
    return html`${this.uploads.map((u) => this.#upload(u))}`;
  }

  #upload(u: PendingUpload) {
    const names = u.files.map((f) => f.name).join(', ');
    const percent = u.total === 0 ? 100 : Math.floor((u.sent / u.total) * 100);
    return html`<div class="upload ${u.state}" data-testid="pending-upload" data-state=${u.state} aria-label=${`Sending ${names}`}>
      <div class="row">
        ${icons.paperclip(15)}
        <span class="files" title=${names}>${names} <span class="status">· ${formatBytes(u.total)}</span></span>
        <span class="status" role="status">${this.#status(u, percent)}</span>
        ${u.state === 'failed'
          ? html`<span class="actions">
              <button data-testid="upload-retry" @click=${() => this.#emit({ action: 'retry', messageId: u.messageId })}>${icons.refresh(12)} Retry</button>
              <button data-testid="upload-discard" @click=${() => this.#emit({ action: 'discard', messageId: u.messageId })}>Discard</button>
            </span>`
          : html`<button class="icon-button" aria-label="Cancel sending" title="Cancel" @click=${() => this.#emit({ action: 'discard', messageId: u.messageId })}>${icons.x(14)}</button>`}
      </div>
      ${u.state === 'uploading' ? html`<progress max="100" .value=${percent} aria-label="Upload progress"></progress>` : nothing}
      ${u.content ? html`<div class="caption">${u.content}</div>` : nothing}
      ${u.failure ? html`<div class="reason" role="alert">${u.failure.reason}</div>` : nothing}
    </div>`;
  }

  #status(u: PendingUpload, percent: number): string {
    if (u.state === 'failed') return 'Not sent';
    if (u.state === 'uploading') return `Uploading ${percent}%`;
    return u.retrying || !this.online ? 'Waiting for the network' : 'Waiting to upload';
  }

  #emit(detail: UploadAction): void {
    this.dispatchEvent(new CustomEvent('upload-action', { detail, bubbles: true, composed: true }));
  }
}
customElements.define('parley-upload-list', ParleyUploadList);
