import type { ReactiveController, ReactiveControllerHost } from 'lit';
import type { ChatClient, RoomSummary } from '../../ChatClient.ts';
import type { ParleyNotification } from '../../../shared/models/notification.ts';
import {
  APP_TITLE,
  PROMPT_DISMISSED_KEY,
  dismissalValue,
  notificationText,
  offerNotifications,
  parseDismissal,
  shouldShow,
  unreadTitle,
  type NotificationAccess,
} from '../notify/notificationRules.ts';

const access = (): NotificationAccess => (typeof Notification === 'undefined' ? 'unsupported' : Notification.permission);

function storedDismissal(): number | null {
  try {
    return parseDismissal(localStorage.getItem(PROMPT_DISMISSED_KEY));
  } catch {
    return null;
  }
}

/**
 * Notifications in the web app (docs/webapp.md, "Notifications"): the tab title counts unread
 * messages (`(3) Parley`, muted rooms left out); a mention or a direct message the server pushes
 * on the user feed (ChatClient's `notification` event, which covers rooms not open here) becomes a
 * system notification while the page is hidden; a click on it focuses the window and opens the
 * room. Permission is asked only when the person presses "Turn on" in the prompt the app offers
 * once signed in (`offer`), never on load; a denial is final.
 */
export class NotificationController implements ReactiveController {
  readonly #host: ReactiveControllerHost;
  readonly #openRoom: (roomId: string) => void;
  #client: ChatClient | null = null;
  #off: (() => void) | null = null;
  #rooms: readonly RoomSummary[] = [];
  #access: NotificationAccess = access();
  #dismissedAt: number | null = storedDismissal();
  /** Shown and not yet closed: closed when the page is visible again (read where they happen). */
  readonly #shown = new Set<Notification>();

  constructor(host: ReactiveControllerHost, opts: { openRoom: (roomId: string) => void }) {
    this.#host = host;
    this.#openRoom = opts.openRoom;
    host.addController(this);
  }

  hostConnected(): void {
    document.addEventListener('visibilitychange', this.#onVisibility);
  }

  hostDisconnected(): void {
    document.removeEventListener('visibilitychange', this.#onVisibility);
    this.#off?.();
    this.#off = null;
    this.#client = null;
    document.title = APP_TITLE;
  }

  /** Called with every new room list (and client). */
  update(client: ChatClient | null, rooms: readonly RoomSummary[]): void {
    if (client !== this.#client) {
      this.#off?.();
      this.#client = client;
      this.#off = client?.on('notification', (notification) => this.#received(notification)) ?? null;
    }
    this.#rooms = client ? rooms : [];
    const title = unreadTitle(this.#rooms);
    if (document.title !== title) document.title = title;
  }

  /** Whether to show the prompt to turn notifications on. */
  get offer(): boolean {
    return offerNotifications({ access: this.#access, signedIn: this.#client !== null, rooms: this.#rooms.length, dismissedAt: this.#dismissedAt, now: Date.now() });
  }

  /** "Turn on": the browser asks (this runs in the click that pressed it). Resolves with the person's answer. */
  async enable(): Promise<NotificationAccess> {
    if (typeof Notification === 'undefined') return 'unsupported';
    try {
      this.#access = await Notification.requestPermission();
    } catch {
      this.#access = access();
    }
    this.#host.requestUpdate();
    return this.#access;
  }

  /** "Not now": the prompt goes, on this device, for PROMPT_AGAIN_AFTER_MS. */
  dismiss(): void {
    this.#dismissedAt = Date.now();
    try {
      localStorage.setItem(PROMPT_DISMISSED_KEY, dismissalValue(this.#dismissedAt));
    } catch {
      // Storage refused (private mode): the prompt stays away for this session.
    }
    this.#host.requestUpdate();
  }

  #received(notification: ParleyNotification): void {
    const client = this.#client;
    if (!client) return;
    // The person may have changed it in the browser's site settings meanwhile.
    this.#access = access();
    const mutedRooms = new Set(this.#rooms.filter((r) => r.muted).map((r) => r.room.id));
    if (!shouldShow(notification, { me: client.user.id, hidden: document.visibilityState !== 'visible', access: this.#access, mutedRooms })) return;
    const { title, body } = notificationText(notification);
    let shown: Notification;
    try {
      // One per message: another tab of mine showing the same one replaces it rather than doubling it.
      shown = new Notification(title, { body, tag: notification.message.id, icon: '/icon.svg' });
    } catch {
      // Where pages may not construct notifications (Android Chrome wants a service worker's): none.
      return;
    }
    shown.onclick = () => {
      window.focus();
      this.#openRoom(notification.room.id);
      shown.close();
    };
    shown.onclose = () => this.#shown.delete(shown);
    this.#shown.add(shown);
  }

  readonly #onVisibility = (): void => {
    if (document.visibilityState !== 'visible') return;
    for (const shown of this.#shown) shown.close();
    this.#shown.clear();
  };
}
