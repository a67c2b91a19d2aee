import diagnosticsChannel from 'node:diagnostics_channel';
import { createHistogram, monitorEventLoopDelay } from 'node:perf_hooks';

/*
 * Preloaded into every benchmarked server (`node --import bench/peers/probe.mjs ...`), Parley
 * and peers alike, so every server is measured by the same instrument and no server code needs a
 * hook. Plain JavaScript, so that Parley (which runs compiled) is measured without a TypeScript
 * loader in its process; the peers' own scripts still load tsx. Over the IPC channel the harness
 * opened, it answers a probe request with the process's CPU time (all threads), RSS, peak RSS,
 * heap, and the event-loop delay since the last reset (beyond the 10 ms sampling interval); and,
 * for a server that publishes them (Parley's group commits on `parley:commit`,
 * server/sync/CommitQueue.ts), the time its commits took on the main thread since the last reset.
 * It never keeps the process alive: the channel is unref'd.
 *
 * Request:  { probe: number, gc: boolean, resetDelay: boolean }
 * Response: { probe, cpuMs, rssBytes, peakRssBytes, heapUsedBytes, delay: { p50Ms, p99Ms, maxMs, samples },
 *             commits: { p50Ms, p99Ms, maxMs, totalMs, count } }
 * (the harness parses the response with a zod schema: bench/load/peerServer.ts)
 */

const RESOLUTION_MS = 10;
const delay = monitorEventLoopDelay({ resolution: RESOLUTION_MS });
delay.enable();

// Commit times in microseconds (a histogram holds integers); count 0 for a server that publishes none.
const commits = createHistogram();
let commitTotalMs = 0;
diagnosticsChannel.subscribe('parley:commit', (message) => {
  const ms = typeof message === 'object' && message !== null && typeof message.ms === 'number' ? message.ms : null;
  if (ms === null) return;
  commits.record(Math.max(1, Math.round(ms * 1000)));
  commitTotalMs += ms;
});
const us = (value) => (Number.isFinite(value) ? value / 1000 : 0);

/** @param {unknown} value @returns {value is { probe: number, gc: boolean, resetDelay: boolean }} */
function isProbeRequest(value) {
  if (typeof value !== 'object' || value === null) return false;
  return typeof value.probe === 'number' && typeof value.gc === 'boolean' && typeof value.resetDelay === 'boolean';
}

const gc = globalThis.gc;
/** The histogram holds intervals between its timer's runs: the delay is what exceeds the resolution. */
const ns = (value) => (Number.isFinite(value) ? Math.max(0, value / 1e6 - RESOLUTION_MS) : 0);

if (process.send !== undefined) {
  process.on('message', (message) => {
    if (!isProbeRequest(message)) return;
    if (message.gc && gc) {
      gc();
      gc();
    }
    const { user, system } = process.cpuUsage();
    const memory = process.memoryUsage();
    const count = delay.count;
    process.send?.({
      probe: message.probe,
      cpuMs: (user + system) / 1000,
      rssBytes: memory.rss,
      peakRssBytes: process.resourceUsage().maxRSS * 1024,
      heapUsedBytes: memory.heapUsed,
      delay: {
        p50Ms: count > 0 ? ns(delay.percentile(50)) : 0,
        p99Ms: count > 0 ? ns(delay.percentile(99)) : 0,
        maxMs: count > 0 ? ns(delay.max) : 0,
        samples: count,
      },
      commits: {
        p50Ms: commits.count > 0 ? us(commits.percentile(50)) : 0,
        p99Ms: commits.count > 0 ? us(commits.percentile(99)) : 0,
        maxMs: commits.count > 0 ? us(commits.max) : 0,
        totalMs: commitTotalMs,
        count: commits.count,
      },
    });
    if (message.resetDelay) {
      delay.reset();
      commits.reset();
      commitTotalMs = 0;
    }
  });
  process.channel?.unref();
}
