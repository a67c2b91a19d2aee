import { Writable } from 'node:stream';
import pino from 'pino';
import { z } from 'zod';

const LogLineSchema = z.looseObject({ level: z.number(), msg: z.string() });
export type LogLine = z.infer<typeof LogLineSchema>;

/**
 * The server's log lines, kept in memory so a test can await what the server decided (a close
 * it cannot observe from a stalled socket, the user and room of a rate-limit log). A test file
 * routes the server's logger here with
 *   vi.mock('<relative path to server/log.ts>', () => import('<relative path to test/support/logCapture.ts>').then((m) => m.logModule));
 */
export class LogCapture {
  readonly lines: LogLine[] = [];
  #waiters: Array<{ predicate: (line: LogLine) => boolean; resolve: (line: LogLine) => void }> = [];

  readonly stream = new Writable({
    write: (chunk: Buffer | string, _encoding, callback) => {
      for (const text of chunk.toString().split('\n')) {
        if (text.trim() === '') continue;
        const line = LogLineSchema.parse(JSON.parse(text));
        this.lines.push(line);
        this.#waiters = this.#waiters.filter((w) => {
          if (!w.predicate(line)) return true;
          w.resolve(line);
          return false;
        });
      }
      callback();
    },
  });

  /** The first line (logged already, or in future) for which `predicate` holds. */
  next(predicate: (line: LogLine) => boolean): Promise<LogLine> {
    const seen = this.lines.find(predicate);
    if (seen) return Promise.resolve(seen);
    return new Promise((resolve) => this.#waiters.push({ predicate, resolve }));
  }

  /** Every line so far for which `predicate` holds. */
  all(predicate: (line: LogLine) => boolean): LogLine[] {
    return this.lines.filter(predicate);
  }
}

/** One capture per test file (vitest isolates files), shared by every server the file starts. */
export const serverLogs = new LogCapture();

/** Stands in for server/log.ts: logs at debug level, whatever was asked, into `serverLogs`. */
export const logModule = {
  createLogger: (_level: pino.LevelWithSilent, node?: string): pino.Logger => pino({ level: 'debug', base: { service: 'parley', ...(node === undefined ? {} : { node }) } }, serverLogs.stream),
  // As server/log.ts has it (a mocked module cannot import the real one it replaces).
  loggerOfNode: (logger: pino.Logger, node: string): pino.Logger => (logger.bindings()['node'] === node ? logger : logger.child({ node })),
};
