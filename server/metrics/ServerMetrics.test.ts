import diagnosticsChannel from 'node:diagnostics_channel';
import { afterEach, expect, it } from 'vitest';
import { MemoryUpdateStore } from '../storage/MemoryUpdateStore.ts';
import { COMMIT_CHANNEL, CommitQueue, type CommitParticipant } from '../sync/CommitQueue.ts';
import { samples, sampleValue } from '../../test/support/promText.ts';
import { ServerMetrics, type MetricSources } from './ServerMetrics.ts';

/*
 * The metrics on their own: gauges read the server when scraped, commits arrive on `parley:commit`
 * and only the server's own queue counts, every series carries the node, and close() lets go.
 */

const opened: ServerMetrics[] = [];
afterEach(() => opened.splice(0).forEach((m) => m.close()));

function metricsOf(sources: Partial<MetricSources> & Pick<MetricSources, 'commitQueue'>): ServerMetrics {
  const metrics = new ServerMetrics({ nodeId: 'node-a', syncConnections: () => 0, commandConnections: () => 0, documentsLoaded: () => 0, ...sources });
  opened.push(metrics);
  return metrics;
}

/** Schedules one participant with `count` updates on `queue` and commits it now. */
function commit(queue: CommitQueue, count: number): void {
  const updates = Array.from({ length: count }, () => new Uint8Array([0, 0]));
  const participant: CommitParticipant = {
    roomId: 'room-a',
    takePending: () => ({ updates: updates.splice(0), bindings: [] }),
    committed: () => {},
    commitFailed: () => {},
  };
  queue.schedule(participant);
  queue.flush();
}

it('reads the gauges when scraped, and labels every series with the node', async () => {
  let connections = 2;
  const metrics = metricsOf({ commitQueue: new CommitQueue(new MemoryUpdateStore()), syncConnections: () => connections, commandConnections: () => 1, documentsLoaded: () => 5 });
  let text = await metrics.text();
  expect(sampleValue(text, 'parley_connections')).toBe(2);
  expect(sampleValue(text, 'parley_command_connections')).toBe(1);
  expect(sampleValue(text, 'parley_documents_loaded')).toBe(5);
  connections = 7;
  text = await metrics.text();
  expect(sampleValue(text, 'parley_connections')).toBe(7);
  // The process's own series (prom-client's default metrics) are there, labelled too.
  expect(samples(text).some((s) => s.name === 'process_cpu_user_seconds_total')).toBe(true);
  expect(samples(text).filter((s) => s.labels.node !== 'node-a')).toEqual([]);
  expect(metrics.contentType).toMatch(/^text\/plain; version=0\.0\.4/);
});

it('counts its own queue\'s commits, ok and failed, and their updates and durations; not another queue\'s', async () => {
  const store = new MemoryUpdateStore();
  const queue = new CommitQueue(store);
  const other = new CommitQueue(new MemoryUpdateStore());
  const metrics = metricsOf({ commitQueue: queue });
  let text = await metrics.text();
  expect(sampleValue(text, 'parley_commits_total', { outcome: 'ok' })).toBe(0);
  expect(sampleValue(text, 'parley_commits_total', { outcome: 'failed' })).toBe(0);

  commit(queue, 3);
  commit(queue, 1);
  commit(other, 5);
  store.close(); // every write now throws: the next commit fails
  commit(queue, 2);

  text = await metrics.text();
  expect(sampleValue(text, 'parley_commits_total', { outcome: 'ok' })).toBe(2);
  expect(sampleValue(text, 'parley_commits_total', { outcome: 'failed' })).toBe(1);
  expect(sampleValue(text, 'parley_committed_updates_total')).toBe(4);
  expect(sampleValue(text, 'parley_commit_duration_seconds_count')).toBe(3);
  expect(sampleValue(text, 'parley_commit_duration_seconds_bucket', { le: '+Inf' })).toBe(3);
  expect(sampleValue(text, 'parley_commit_duration_seconds_bucket', { le: '0.0001' })).toBeLessThanOrEqual(3);
});

it('reports event-loop delay at quantiles 0.5, 0.9, 0.99 and 1, in seconds', async () => {
  const metrics = metricsOf({ commitQueue: new CommitQueue(new MemoryUpdateStore()) });
  // Block the loop for 60 ms after the monitor has started: the maximum sees it.
  await new Promise((resolve) => setTimeout(resolve, 30));
  const until = performance.now() + 60;
  while (performance.now() < until) {
    // busy
  }
  await new Promise((resolve) => setTimeout(resolve, 30));
  const text = await metrics.text();
  const delays = samples(text).filter((s) => s.name === 'parley_event_loop_delay_seconds');
  expect(delays.map((s) => s.labels.quantile)).toEqual(['0.5', '0.9', '0.99', '1']);
  expect(sampleValue(text, 'parley_event_loop_delay_seconds', { quantile: '1' })).toBeGreaterThan(0.03);
  expect(sampleValue(text, 'parley_event_loop_delay_seconds', { quantile: '1' })).toBeLessThan(5);
});

it('two servers in one process keep apart, and close() stops listening to commits', () => {
  const channel = diagnosticsChannel.channel(COMMIT_CHANNEL);
  expect(channel.hasSubscribers).toBe(false);
  const a = metricsOf({ commitQueue: new CommitQueue(new MemoryUpdateStore()) });
  const b = metricsOf({ commitQueue: new CommitQueue(new MemoryUpdateStore()), nodeId: 'node-b' });
  expect(channel.hasSubscribers).toBe(true);
  a.close();
  expect(channel.hasSubscribers).toBe(true);
  b.close();
  expect(channel.hasSubscribers).toBe(false);
});
