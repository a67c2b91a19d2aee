/**
 * What the heartbeat does with a socket at each interval. A socket that answered the last ping
 * is alive. One that did not may still be: its pong waits behind everything already queued for
 * it, and a client reading a large first sync (a 100,000-message room is about 25 MiB) among many
 * others can take longer than one interval to get there. So a socket whose send buffer shrank
 * since the last ping is kept; only one that neither answered nor read anything is dropped.
 */
export function heartbeatVerdict(answered: boolean, buffered: number, bufferedAtLastPing: number | undefined): 'keep' | 'terminate' {
  if (answered) return 'keep';
  const draining = buffered > 0 && bufferedAtLastPing !== undefined && buffered < bufferedAtLastPing;
  return draining ? 'keep' : 'terminate';
}
