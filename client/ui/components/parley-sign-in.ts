import { LitElement, css, html, nothing } from 'lit';
import { base, tokens } from '../theme.ts';

/** The sign-in screen: a name (dev login) or a token from the host app. Emits `sign-in`. */
export class ParleySignIn extends LitElement {
  static override properties = {
    busy: { type: Boolean },
    error: {},
    mode: { state: true },
  };
  declare busy: boolean;
  declare error: string | null;
  declare mode: 'name' | 'token';

  constructor() {
    super();
    this.busy = false;
    this.error = null;
    this.mode = 'name';
  }

  static override styles = [
    tokens,
    base,
    css`
      :host {
        display: grid;
        place-items: center;
        min-height: 100%;
        padding: 24px 16px;
        background: radial-gradient(1200px 600px at 10% -10%, #eef0ff 0%, transparent 60%), radial-gradient(900px 500px at 110% 110%, #fdf2f8 0%, transparent 55%), var(--bg-subtle);
      }
      .card {
        width: min(400px, 100%);
        background: var(--bg);
        border: 1px solid var(--border);
        border-radius: 16px;
        box-shadow: var(--shadow);
        padding: 32px 28px 28px;
      }
      .brand {
        display: flex;
        align-items: center;
        gap: 10px;
        font-weight: 700;
        font-size: 20px;
        margin-bottom: 20px;
      }
      .brand img {
        width: 36px;
        height: 36px;
      }
      h1 {
        font-size: 22px;
        margin: 0 0 6px;
        letter-spacing: -0.01em;
      }
      p {
        margin: 0 0 22px;
        color: var(--text-muted);
        line-height: 1.5;
      }
      label {
        display: block;
        font-weight: 600;
        font-size: 13px;
        margin-bottom: 6px;
      }
      input,
      textarea {
        width: 100%;
        margin-bottom: 16px;
      }
      textarea {
        min-height: 90px;
        font-family: ui-monospace, SFMono-Regular, Menlo, monospace;
        font-size: 12px;
        resize: vertical;
      }
      .primary {
        width: 100%;
        padding: 11px 16px;
      }
      .switch {
        margin-top: 16px;
        text-align: center;
        font-size: 13px;
      }
      .link {
        border: 0;
        background: none;
        color: var(--accent);
        padding: 0;
        font-weight: 500;
      }
      .error {
        background: var(--danger-soft);
        color: var(--danger);
        border-radius: var(--radius);
        padding: 10px 12px;
        font-size: 13px;
        margin-bottom: 16px;
      }
    `,
  ];

  override render() {
    return html`<main class="card" aria-labelledby="title">
      <div class="brand"><img src="/icon.svg" alt="" />Parley</div>
      <h1 id="title">${this.mode === 'name' ? 'Welcome' : 'Use an access token'}</h1>
      <p>${this.mode === 'name' ? 'Pick a name to start chatting. Your messages stay on this device and sync when you are online.' : 'Paste the access token your organisation gave you.'}</p>
      ${this.error ? html`<div class="error" role="alert">${this.error}</div>` : nothing}
      <form @submit=${this.#submit}>
        ${this.mode === 'name'
          ? html`<label for="name">Your name</label><input id="name" name="name" type="text" autocomplete="nickname" required maxlength="80" placeholder="e.g. Ana Lima" ?disabled=${this.busy} />`
          : html`<label for="token">Token</label><textarea id="token" name="token" required ?disabled=${this.busy}></textarea>`}
        <button class="primary" type="submit" ?disabled=${this.busy}>${this.busy ? 'Signing in…' : 'Sign in'}</button>
      </form>
      <div class="switch">
        <button class="link" type="button" @click=${() => (this.mode = this.mode === 'name' ? 'token' : 'name')}>
          ${this.mode === 'name' ? 'Have an access token? Use it instead' : 'Use a name instead'}
        </button>
      </div>
    </main>`;
  }

  #submit(event: SubmitEvent): void {
    event.preventDefault();
    const data = new FormData(event.target as HTMLFormElement);
    const value = String(data.get(this.mode) ?? '').trim();
    if (!value) return;
    this.dispatchEvent(new CustomEvent('sign-in', { detail: { mode: this.mode, value }, bubbles: true, composed: true }));
  }
}
customElements.define('parley-sign-in', ParleySignIn);
