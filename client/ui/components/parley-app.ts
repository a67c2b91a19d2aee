import { LitElement, css, html, nothing, type PropertyValues } from 'lit';
import { HashRouteController } from '../controllers/HashRouteController.ts';
import { NotificationController } from '../controllers/NotificationController.ts';
import { RoomListController } from '../controllers/RoomListController.ts';
import { SessionController } from '../controllers/SessionController.ts';
import { tokens } from '../theme.ts';
import type { UserPresence } from '../../../shared/models/userPresence.ts';
import './parley-connection-banner.ts';
import './parley-new-room-dialog.ts';
import './parley-notification-prompt.ts';
import './parley-room-list.ts';
import './parley-room-view.ts';
import './parley-search.ts';
import type { SearchFn } from './parley-search.ts';
import { searchOver } from '../search/searchOver.ts';
import type { ChatClient } from '../../ChatClient.ts';
import './parley-sign-in.ts';
import './parley-toasts.ts';

/** The app root: sign-in, then the room list beside the open room (one at a time on a phone). */
export class ParleyApp extends LitElement {
  static override properties = {
    signInError: { state: true },
    signingIn: { state: true },
    creating: { state: true },
    searching: { state: true },
  };
  /** The search panel has text: its results show in the room list's place. */
  declare searching: boolean;
  declare signInError: string | null;
  declare signingIn: boolean;
  declare creating: boolean;
  readonly #session = new SessionController(this);
  readonly #route = new HashRouteController(this);
  readonly #list = new RoomListController(this);
  readonly #notify = new NotificationController(this, { openRoom: (roomId) => this.#route.go(roomId) });

  constructor() {
    super();
    this.signInError = null;
    this.signingIn = false;
    this.creating = false;
    this.searching = false;
  }

  static override styles = [
    tokens,
    css`
      :host {
        display: flex;
        flex-direction: column;
        height: 100%;
        background: var(--bg);
      }
      .shell {
        flex: 1;
        min-height: 0;
        display: grid;
        /* minmax(0, …): a long preview or title never widens a column past the screen. */
        grid-template-columns: 300px minmax(0, 1fr);
      }
      .sidebar {
        display: flex;
        flex-direction: column;
        border-right: 1px solid var(--border);
        background: var(--bg-sidebar);
        min-height: 0;
        min-width: 0;
      }
      .sidebar parley-search {
        flex: 0 0 auto;
      }
      .sidebar.searching parley-search {
        flex: 1 1 auto;
      }
      parley-room-list {
        flex: 1;
        min-height: 0;
        min-width: 0;
      }
      .sidebar.searching parley-room-list {
        display: none;
      }
      parley-room-view {
        min-width: 0;
        min-height: 0;
      }
      .loading {
        flex: 1;
        display: grid;
        place-items: center;
        color: var(--text-muted);
      }
      @media (max-width: 720px) {
        .shell {
          grid-template-columns: minmax(0, 1fr);
        }
        .shell.in-room .sidebar,
        .shell:not(.in-room) parley-room-view {
          display: none;
        }
        .sidebar {
          border-right: 0;
        }
      }
    `,
  ];

  protected override willUpdate(_changed: PropertyValues<this>): void {
    this.#list.update(this.#session.client, this.#session.rooms);
    this.#notify.update(this.#session.client, this.#session.rooms);
  }

  override render() {
    const s = this.#session;
    return html`${this.#body()}<parley-toasts .toasts=${s.toasts} @dismiss=${(e: CustomEvent<number>) => s.dismissToast(e.detail)}></parley-toasts>`;
  }

  #body() {
    const s = this.#session;
    switch (s.status) {
      case 'starting':
      case 'opening':
        return html`<div class="loading" role="status">Opening Parley…</div>`;
      case 'signed-out':
        return html`<parley-sign-in .busy=${this.signingIn} .error=${this.signInError} @sign-in=${this.#signIn}></parley-sign-in>`;
      case 'ready': {
        const roomId = this.#route.roomId;
        const summary = s.rooms.find((r) => r.room.id === roomId) ?? null;
        return html`<parley-connection-banner .state=${s.connection}></parley-connection-banner>
          <div class="shell ${roomId ? 'in-room' : ''}">
            <div class="sidebar ${this.searching ? 'searching' : ''}">
            <parley-search
              .search=${this.#searchFn()}
              .nameOf=${(userId: string) => s.client?.userName(userId) ?? 'Someone'}
              @search-active=${(e: CustomEvent<boolean>) => (this.searching = e.detail)}
              @open-result=${(e: CustomEvent<{ roomId: string; messageId: string }>) => this.#route.go(e.detail.roomId, e.detail.messageId)}
            ></parley-search>
            <parley-room-list
              .rooms=${s.rooms}
              .selectedId=${roomId}
              .me=${s.client?.user ?? null}
              .peers=${this.#list.peers}
              .presence=${this.#list.presence}
              @new-room=${() => (this.creating = true)}
              @sign-out=${() => void s.signOut(null, { forget: true })}
              >${this.#notify.offer
                ? html`<parley-notification-prompt slot="notice" @enable=${() => void this.#enableNotifications()} @dismiss=${() => this.#notify.dismiss()}></parley-notification-prompt>`
                : nothing}</parley-room-list
            >
            </div>
            <parley-room-view
              .client=${s.client}
              .roomId=${roomId}
              .focusMessage=${this.#route.messageId}
              .summary=${summary}
              .peer=${roomId ? (this.#list.peers.get(roomId) ?? null) : null}
              @back=${() => this.#route.go(null)}
              @left=${() => this.#route.go(null)}
              @room-presence=${(e: CustomEvent<readonly UserPresence[]>) => this.#list.mergePresence(e.detail)}
              @mute-room=${(e: CustomEvent<{ roomId: string; muted: boolean }>) => void this.#mute(e.detail)}
            ></parley-room-view>
          </div>
          ${this.creating
            ? html`<parley-new-room-dialog
                .client=${s.client}
                @created=${(e: CustomEvent<string>) => this.#route.go(e.detail)}
                @close=${() => (this.creating = false)}
              ></parley-new-room-dialog>`
            : nothing}`;
      }
    }
  }

  /** The search panel's search over the signed-in client (ChatClient.search), paging on with its cursor. */
  #searchFn(): SearchFn | null {
    const client = this.#session.client;
    if (!client) return null;
    if (this.#search?.client !== client) this.#search = { client, fn: searchOver(client) };
    return this.#search.fn;
  }

  #search: { readonly client: ChatClient; readonly fn: SearchFn } | null = null;

  async #enableNotifications(): Promise<void> {
    if ((await this.#notify.enable()) === 'denied') this.#session.toast('Notifications are blocked for this site. You can allow them in the browser’s site settings.');
  }

  async #mute({ roomId, muted }: { roomId: string; muted: boolean }): Promise<void> {
    try {
      await this.#session.client?.setRoomMuted(roomId, muted);
    } catch (error) {
      this.#session.toast(`${muted ? 'Muting' : 'Unmuting'} the room failed: ${error instanceof Error ? error.message : String(error)}`);
    }
  }

  async #signIn(event: CustomEvent<{ mode: 'name' | 'token'; value: string }>): Promise<void> {
    this.signingIn = true;
    this.signInError = null;
    try {
      if (event.detail.mode === 'name') await this.#session.signInWithName(event.detail.value);
      else await this.#session.signInWithToken(event.detail.value);
    } catch (error) {
      this.signInError = signInProblem(error);
    } finally {
      this.signingIn = false;
    }
  }
}

function signInProblem(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  if (/dev_login_disabled/.test(message)) return 'This server does not allow signing in by name. Sign in with a token instead.';
  if (/network|fetch/i.test(message)) return 'The server cannot be reached. Check your connection and try again.';
  return message;
}

customElements.define('parley-app', ParleyApp);
