import type { ReactiveController, ReactiveControllerHost } from 'lit';
import { setAttachmentFetcher } from '../attachments/AttachmentUrls.ts';
import { ChatClient, type RoomSummary } from '../../ChatClient.ts';
import { ApiError } from '../../api/RestClient.ts';
import { ClientError } from '../../errors/ClientError.ts';
import type { ConnectionState, TokenProvider } from '../../sync/RoomConnection.ts';
import type { WebSession } from '../../../shared/models/webSession.ts';
import { forgetEmojiHistory } from '../emoji/forgetEmojiHistory.ts';
import { clearSession, loadSession, saveSession, sessionFromToken } from '../session.ts';
import { workerMerge } from '../workers/workerMerge.ts';

/** Every room's log compaction runs in one Web Worker, off the page's frames. */
const MERGE = workerMerge();

export type SessionStatus = 'starting' | 'signed-out' | 'opening' | 'ready';

export interface Toast {
  readonly id: number;
  readonly text: string;
}

/** A host page embedding the app may hand it tokens (docs/webapp.md). */
interface HostConfig {
  readonly getToken: TokenProvider;
}

function hostConfig(): HostConfig | null {
  const config: unknown = (globalThis as { parleyConfig?: unknown }).parleyConfig;
  if (typeof config !== 'object' || config === null || !('getToken' in config) || typeof config.getToken !== 'function') return null;
  const getToken = config.getToken as (ctx: { renew: boolean }) => unknown;
  return {
    getToken: async (ctx) => {
      const token = await getToken(ctx);
      if (typeof token !== 'string' || token === '') throw new ClientError('unauthorized', 'parleyConfig.getToken returned no token');
      return token;
    },
  };
}

/** Errors the user must hear about; the rest show where they happen (a rejected message, a form). */
function toastFor(error: ClientError): string | null {
  switch (error.code) {
    case 'storage_full':
      return 'This device is out of storage space: new messages cannot be saved until you free some.';
    case 'storage_failed':
      return `Saving on this device failed: ${error.message}`;
    case 'unauthorized':
      return 'Your session has ended. Please sign in again.';
    case 'api_error':
      return error instanceof ApiError && error.status === 401 ? 'Your session has ended. Please sign in again.' : null;
    default:
      return null;
  }
}

/**
 * The signed-in session and the ChatClient behind it: sign-in and sign-out, the room list, the
 * connection state and error toasts. The only place the app creates a ChatClient.
 */
export class SessionController implements ReactiveController {
  readonly #host: ReactiveControllerHost;
  status: SessionStatus = 'starting';
  client: ChatClient | null = null;
  rooms: readonly RoomSummary[] = [];
  connection: ConnectionState = 'connecting';
  toasts: readonly Toast[] = [];
  #session: WebSession | null = null;
  #offs: Array<() => void> = [];
  #toastId = 0;
  /** The browser's network events come before (or, for a socket that never noticed, instead of) the client's. */
  #online = (): void => {
    const client = this.client;
    if (!client) return;
    this.connection = client.connectionState === 'online' ? 'online' : 'connecting';
    this.#host.requestUpdate();
    void client.reconnectNow().catch(() => undefined);
  };

  constructor(host: ReactiveControllerHost) {
    this.#host = host;
    host.addController(this);
  }

  get serverUrl(): string {
    return location.origin;
  }

  #offline = (): void => {
    this.connection = 'offline';
    this.#host.requestUpdate();
  };

  hostConnected(): void {
    window.addEventListener('online', this.#online);
    window.addEventListener('offline', this.#offline);
    if (this.status === 'starting') void this.#start();
  }

  hostDisconnected(): void {
    window.removeEventListener('online', this.#online);
    window.removeEventListener('offline', this.#offline);
    void this.#closeClient();
  }

  async signInWithName(name: string): Promise<void> {
    const { token } = await ChatClient.devLogin(this.serverUrl, name);
    await this.#openWith(sessionFromToken(token, name));
  }

  async signInWithToken(token: string): Promise<void> {
    await this.#openWith(sessionFromToken(token.trim(), null));
  }

  /**
   * Signs out: the session, the room shown (the next user must not land in it) and, with
   * `forget`, everything this user stored on the device go. An expired session keeps the data,
   * so that unsent messages survive signing in again.
   */
  async signOut(reason: string | null = null, { forget = false }: { forget?: boolean } = {}): Promise<void> {
    clearSession();
    this.#session = null;
    if (location.hash) {
      history.replaceState(null, '', location.pathname + location.search);
      window.dispatchEvent(new HashChangeEvent('hashchange'));
    }
    await this.#closeClient(forget);
    // Not awaited: the deletion waits for any other tab to close the emoji picker.
    if (forget) void forgetEmojiHistory().catch((error: unknown) => this.toast(`Deleting the emoji history from the device failed: ${error instanceof Error ? error.message : String(error)}`));
    this.status = 'signed-out';
    if (reason) this.toast(reason);
    this.#host.requestUpdate();
  }

  toast(text: string): void {
    if (this.toasts.some((t) => t.text === text)) return;
    this.toasts = [...this.toasts, { id: ++this.#toastId, text }];
    this.#host.requestUpdate();
  }

  dismissToast(id: number): void {
    this.toasts = this.toasts.filter((t) => t.id !== id);
    this.#host.requestUpdate();
  }

  async #start(): Promise<void> {
    const host = hostConfig();
    if (host) {
      await this.#open(host.getToken, null);
      return;
    }
    const fromHash = /^#token=([^&]+)/.exec(location.hash)?.[1];
    if (fromHash) {
      history.replaceState(null, '', location.pathname + location.search);
      try {
        await this.signInWithToken(decodeURIComponent(fromHash));
        return;
      } catch (error) {
        this.toast(`That sign-in link did not work: ${error instanceof Error ? error.message : String(error)}`);
      }
    }
    const loaded = loadSession();
    if (loaded.session) {
      await this.#openWith(loaded.session).catch((error: unknown) => this.signOut(error instanceof Error ? error.message : String(error)));
      return;
    }
    if (loaded.problem) this.toast(loaded.problem);
    this.status = 'signed-out';
    this.#host.requestUpdate();
  }

  async #openWith(session: WebSession): Promise<void> {
    this.#session = session;
    saveSession(session);
    await this.#open((ctx) => this.#token(ctx.renew), session);
  }

  async #token(renew: boolean): Promise<string> {
    const session = this.#session;
    if (!session) throw new ClientError('unauthorized', 'signed out');
    if (!renew) return session.token;
    if (session.devName === null) {
      void this.signOut('Your session has expired. Please sign in again.');
      throw new ClientError('unauthorized', 'the token expired');
    }
    try {
      const { token } = await ChatClient.devLogin(this.serverUrl, session.devName);
      this.#session = sessionFromToken(token, session.devName);
      saveSession(this.#session);
      return token;
    } catch (error) {
      // Offline: keep the old token; the next attempt asks again.
      if (error instanceof ClientError && error.code === 'network') return session.token;
      void this.signOut('You were signed out: the server no longer accepts dev sign-in.');
      throw error;
    }
  }

  async #open(getToken: TokenProvider, session: WebSession | null): Promise<void> {
    this.status = 'opening';
    this.#host.requestUpdate();
    const client = await ChatClient.open({ serverUrl: this.serverUrl, getToken, compaction: { merge: MERGE } });
    if (session !== null && this.#session !== session) {
      await client.close();
      return;
    }
    this.client = client;
    setAttachmentFetcher((attachment, opts) => client.downloadAttachment(attachment, opts));
    // The client says 'offline' until its first answer; with a network, that is still connecting.
    this.connection = client.connectionState === 'offline' && navigator.onLine ? 'connecting' : client.connectionState;
    this.#offs = [
      client.watchRooms((rooms) => {
        this.rooms = rooms;
        this.#host.requestUpdate();
      }),
      client.on('connection', (state) => {
        this.connection = state;
        this.#host.requestUpdate();
      }),
      client.on('error', (error) => {
        const text = toastFor(error);
        if (text) this.toast(text);
      }),
    ];
    this.status = 'ready';
    this.#host.requestUpdate();
  }

  async #closeClient(forget = false): Promise<void> {
    for (const off of this.#offs) off();
    this.#offs = [];
    const client = this.client;
    this.client = null;
    setAttachmentFetcher(null);
    this.rooms = [];
    if (forget) await client?.signOut().catch((error: unknown) => this.toast(`Deleting this account's data from the device failed: ${error instanceof Error ? error.message : String(error)}`));
    else await client?.close();
  }
}
