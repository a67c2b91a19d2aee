/** A heartbeat this many intervals after the last one came late: the event loop stalled. */
const LATE_FACTOR = 1.5;

/**
 * What the heartbeat does with a socket at each interval. A socket that answered the last ping
 * is alive. One that did not may still be: its pong waits behind everything already queued for
 * it, and a client reading a large first sync (a 100,000-message room is about 25 MiB) among many
 * others can take longer than one interval to get there. So a socket whose send buffer shrank
 * since the last ping is kept; only one that neither answered nor read anything is dropped.
 *
 * `sinceLastPingMs` against `intervalMs`: a heartbeat that comes late (the event loop stalled
 * past the interval) judges nothing. Timers run before the loop polls sockets, so the pongs
 * that arrived during the stall are not read yet; every socket is only pinged again.
 */
export function heartbeatVerdict(answered: boolean, buffered: number, bufferedAtLastPing: number | undefined, sinceLastPingMs = 0, intervalMs = Infinity): 'keep' | 'terminate' {
  if (answered || sinceLastPingMs > intervalMs * LATE_FACTOR) return 'keep';
  const draining = buffered > 0 && bufferedAtLastPing !== undefined && buffered < bufferedAtLastPing;
  return draining ? 'keep' : 'terminate';
}
