/*
 * Where the sockets live and how a client says it speaks Parley's additions. A stock
 * y-websocket WebsocketProvider connects as `new WebsocketProvider(`${ws}/sync`, roomId, doc,
 * { params: { token } })`; Parley's SDK adds `parley=1`.
 */

/** The y-websocket endpoint: `ws(s)://HOST:PORT/sync/<roomId>?token=<jwt>[&parley=1]`. */
export const SYNC_PATH_PREFIX = '/sync/';
/** The multiplexed sync endpoint, one socket per device for many documents (muxFrames.ts): `ws(s)://HOST:PORT/ws/sync?token=<jwt>`. */
export const MUX_SYNC_PATH = '/ws/sync';
/** The JSON command endpoint: `ws(s)://HOST:PORT/ws/commands?token=<jwt>` (docs/commands.md). */
export const COMMANDS_PATH = '/ws/commands';

/**
 * Query parameter by which a client declares it understands Parley's extra messages (ack,
 * error): `?parley=1`. Stock y-websocket clients leave it out and get neither, since they log
 * "Unable to compute message" for every message type they do not know.
 */
export const PARLEY_PROTOCOL_PARAM = 'parley';
export const PARLEY_PROTOCOL_VERSION = '1';

/** The sync URL of a room for a Parley client: ws(s)://host:port/sync/<roomId>?token=…&parley=1. */
export function syncUrl(serverUrl: string, roomId: string, token: string): string {
  return socketUrl(serverUrl, `${SYNC_PATH_PREFIX}${encodeURIComponent(roomId)}`, { token, [PARLEY_PROTOCOL_PARAM]: PARLEY_PROTOCOL_VERSION });
}

/** The multiplexed sync URL for a device: ws(s)://host:port/ws/sync?token=…. */
export function muxSyncUrl(serverUrl: string, token: string): string {
  return socketUrl(serverUrl, MUX_SYNC_PATH, { token });
}

function socketUrl(serverUrl: string, path: string, params: Record<string, string>): string {
  const url = new URL(serverUrl);
  url.protocol = url.protocol === 'https:' ? 'wss:' : url.protocol === 'http:' ? 'ws:' : url.protocol;
  url.pathname = `${url.pathname.replace(/\/$/, '')}${path}`;
  url.search = new URLSearchParams(params).toString();
  return url.toString();
}

/** The link between two Parley nodes (docs/scale-out.md, "Routing"): served only with a cluster secret, never behind the public load balancer. */
export const INTERNAL_LINK_PATH = '/ws/internal';
