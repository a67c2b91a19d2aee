import type { ReactiveController, ReactiveControllerHost } from 'lit';

const ROOM_ROUTE = /^#\/rooms\/([^/?#]+)/;

/** `#/rooms/<roomId>` opens a room; anything else shows the room list. */
export class HashRouteController implements ReactiveController {
  readonly #host: ReactiveControllerHost;
  roomId: string | null = null;
  #onChange = (): void => {
    this.roomId = parseRoute(location.hash);
    this.#host.requestUpdate();
  };

  constructor(host: ReactiveControllerHost) {
    this.#host = host;
    host.addController(this);
  }

  hostConnected(): void {
    this.roomId = parseRoute(location.hash);
    window.addEventListener('hashchange', this.#onChange);
  }

  hostDisconnected(): void {
    window.removeEventListener('hashchange', this.#onChange);
  }

  go(roomId: string | null): void {
    location.hash = roomId === null ? '' : roomHref(roomId);
  }
}

export function parseRoute(hash: string): string | null {
  const id = ROOM_ROUTE.exec(hash)?.[1];
  if (id === undefined) return null;
  try {
    return decodeURIComponent(id);
  } catch {
    return null;
  }
}

export const roomHref = (roomId: string): string => `#/rooms/${encodeURIComponent(roomId)}`;
