import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import type { Figure, RunOptions } from '../scenario.ts';
import { PEERS, type PeerName, type RunningPeer, type StartOptions, startPeer } from './peerServer.ts';
import { BENCH_SECRET } from './rooms.ts';

/*
 * The loop every peer scenario runs: for each selected server that can run it, a fresh data
 * directory, the server in its child process, the measurement, and, whatever happens, the server
 * stopped and the directory removed. A peer whose run fails does not stop the others: its error is
 * printed at once, recorded as a figure, and makes `npm run bench` exit non-zero at the end.
 */

export const failures: string[] = [];

export function selectedPeers(opts: RunOptions, able: readonly PeerName[] = PEERS): PeerName[] {
  const wanted = opts.peers;
  if (wanted === undefined) return [...able];
  return able.filter((p) => wanted.includes(p));
}

export function tempDir(prefix: string): { dir: string; remove: () => void } {
  const dir = mkdtempSync(join(os.tmpdir(), prefix));
  return { dir, remove: () => rmSync(dir, { recursive: true, force: true }) };
}

/** Starts `peer` on a fresh data dir, runs `fn`, then stops it and removes the dir. */
export async function withPeer<T>(
  peer: PeerName,
  env: Record<string, string>,
  fn: (server: RunningPeer, dataDir: string) => Promise<T>,
): Promise<T> {
  const tmp = tempDir(`parley-bench-${peer}-`);
  let server: RunningPeer | null = null;
  try {
    const opts: StartOptions = { dataDir: tmp.dir, env, secret: BENCH_SECRET };
    server = await startPeer(peer, opts);
    return await fn(server, tmp.dir);
  } catch (error) {
    throw withLogTail(error, peer, tmp.dir);
  } finally {
    if (server) await server.stop();
    tmp.remove();
  }
}

/** The error, with the end of the server's log appended (the data dir is about to go). */
export function withLogTail(error: unknown, peer: PeerName, dataDir: string): Error {
  const base = error instanceof Error ? error : new Error(String(error));
  if (base.message.includes('its log ends')) return base;
  let tail = '';
  try {
    tail = readFileSync(join(dataDir, `${peer}.log`), 'utf8').slice(-1500);
  } catch {
    return base;
  }
  return new Error(`${base.message}\n--- end of the ${peer} log ---\n${tail}`);
}

/** Runs `fn` for every peer in turn; a failure becomes a NaN figure and an entry in `failures`. */
export async function eachPeer(scenario: string, peers: readonly PeerName[], fn: (peer: PeerName) => Promise<Figure[]>): Promise<Figure[]> {
  const figures: Figure[] = [];
  for (const peer of peers) {
    process.stderr.write(`  ${scenario}: ${peer}...\n`);
    // The previous peer's clients are garbage now: collect them here, not in the middle of a measurement.
    collectGarbage();
    try {
      figures.push(...(await fn(peer)));
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      console.error(`\n*** ${scenario} FAILED on ${peer}: ${message}\n`);
      failures.push(`${scenario} on ${peer}: ${message.split('\n')[0] ?? ''}`);
      figures.push({ metric: 'run failed', peer, value: Number.NaN, unit: '', note: message.split('\n')[0] ?? '' });
    }
  }
  return figures;
}

export const MiB = 2 ** 20;

const gc = (globalThis as { gc?: () => void }).gc;
/** A full collection in this process (the load generator), when node runs with --expose-gc. */
export function collectGarbage(): void {
  gc?.();
}

const loadDelay = monitorEventLoopDelay({ resolution: 10 });
loadDelay.enable();

/** The load generator's own event-loop delay since the last call, in ms: a stalled reader shows up as latency. */
export function loadGeneratorDelay(): { p99Ms: number; maxMs: number } {
  const out = { p99Ms: loadDelay.count > 0 ? loadDelay.percentile(99) / 1e6 : 0, maxMs: loadDelay.count > 0 ? loadDelay.max / 1e6 : 0 };
  loadDelay.reset();
  return out;
}
