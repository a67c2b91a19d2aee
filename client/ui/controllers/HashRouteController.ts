import type { ReactiveController, ReactiveControllerHost } from 'lit';

const ROOM_ROUTE = /^#\/rooms\/([^/?#]+)(?:\/messages\/([^/?#]+))?/;

/**
 * `#/rooms/<roomId>` opens a room; `#/rooms/<roomId>/messages/<messageId>` opens it at that
 * message (a search result, a link); anything else shows the room list.
 */
export class HashRouteController implements ReactiveController {
  readonly #host: ReactiveControllerHost;
  roomId: string | null = null;
  /** The message to show, with the messages around it, or null for the newest. */
  messageId: string | null = null;
  #onChange = (): void => {
    this.#read();
    this.#host.requestUpdate();
  };

  constructor(host: ReactiveControllerHost) {
    this.#host = host;
    host.addController(this);
  }

  hostConnected(): void {
    this.#read();
    window.addEventListener('hashchange', this.#onChange);
  }

  hostDisconnected(): void {
    window.removeEventListener('hashchange', this.#onChange);
  }

  go(roomId: string | null, messageId: string | null = null): void {
    location.hash = roomId === null ? '' : messageId === null ? roomHref(roomId) : messageHref(roomId, messageId);
  }

  #read(): void {
    const route = parseMessageRoute(location.hash);
    [this.roomId, this.messageId] = [route?.roomId ?? null, route?.messageId ?? null];
  }
}

export function parseRoute(hash: string): string | null {
  return parseMessageRoute(hash)?.roomId ?? null;
}

export function parseMessageRoute(hash: string): { roomId: string; messageId: string | null } | null {
  const match = ROOM_ROUTE.exec(hash);
  const [room, message] = [match?.[1], match?.[2]];
  if (room === undefined) return null;
  try {
    return { roomId: decodeURIComponent(room), messageId: message === undefined ? null : decodeURIComponent(message) };
  } catch {
    return null;
  }
}

export const roomHref = (roomId: string): string => `#/rooms/${encodeURIComponent(roomId)}`;
export const messageHref = (roomId: string, messageId: string): string => `${roomHref(roomId)}/messages/${encodeURIComponent(messageId)}`;
