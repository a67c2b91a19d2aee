import { Writable } from 'node:stream';
import pino from 'pino';
import { expect, it } from 'vitest';
import { createLogger, loggerOfNode } from './log.ts';
import { createParleyServer } from './ParleyServer.ts';
import { makeTempDir } from '../test/support/tempDir.ts';

/*
 * Every log line names its node (issue 19: the lines of several nodes, gathered in one place,
 * must tell which node wrote them), whether the server made its logger or the host passed one.
 */

/** The raw JSON lines written to it (raw: a key written twice would hide in a parsed object). */
function lineSink(): { stream: Writable; lines: string[] } {
  const lines: string[] = [];
  const stream = new Writable({
    write(chunk: Buffer | string, _encoding, callback) {
      lines.push(...chunk.toString().split('\n').filter((line) => line.trim() !== ''));
      callback();
    },
  });
  return { stream, lines };
}

const nodeKeys = (line: string): number => line.match(/"node":/g)?.length ?? 0;

it('createLogger puts the node on every line', () => {
  const sink = lineSink();
  const logger = createLogger('info', 'node-a', sink.stream);
  logger.info('one');
  logger.child({ room: 'r' }).warn('two');
  expect(sink.lines.map((line) => JSON.parse(line) as Record<string, unknown>)).toEqual([
    expect.objectContaining({ service: 'parley', node: 'node-a', msg: 'one' }),
    expect.objectContaining({ service: 'parley', node: 'node-a', room: 'r', msg: 'two' }),
  ]);
});

it('loggerOfNode adds the node to a host\'s logger once, and keeps one that has it', () => {
  const sink = lineSink();
  const host = pino({ base: { app: 'host' } }, sink.stream);
  loggerOfNode(host, 'node-b').info('from the host logger');
  loggerOfNode(loggerOfNode(host, 'node-b'), 'node-b').info('again');
  loggerOfNode(createLogger('info', 'node-b', sink.stream), 'node-b').info('made by createLogger');
  expect(sink.lines.map((line) => (JSON.parse(line) as { node: unknown }).node)).toEqual(['node-b', 'node-b', 'node-b']);
  expect(sink.lines.map(nodeKeys)).toEqual([1, 1, 1]);
});

it('a server logs with the node, on the host\'s logger too', async () => {
  const tmp = makeTempDir();
  const sink = lineSink();
  const server = createParleyServer({ dataDir: tmp.dir, devLogin: true, nodeId: 'node-c', logger: pino({ level: 'info' }, sink.stream) });
  try {
    await server.close();
    const stopped = sink.lines.find((line) => line.includes('server stopped'));
    expect(stopped && JSON.parse(stopped)).toMatchObject({ node: 'node-c', msg: 'server stopped' });
    expect(sink.lines.length).toBeGreaterThan(0);
    expect(sink.lines.every((line) => nodeKeys(line) === 1 && line.includes('"node":"node-c"'))).toBe(true);
  } finally {
    tmp.remove();
  }
});
