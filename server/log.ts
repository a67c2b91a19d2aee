import pino from 'pino';

export type Logger = pino.Logger;

/**
 * Structured JSON logs on stdout (pipe through `pino-pretty` to read them by eye). With `node`,
 * every line carries it (`"node": "<PARLEY_NODE_ID>"`), so the lines of several nodes can be
 * told apart once they are gathered in one place. `destination` (default stdout) is for tests.
 */
export function createLogger(level: pino.LevelWithSilent, node?: string, destination?: pino.DestinationStream): Logger {
  const options = { level, base: { service: 'parley', ...(node === undefined ? {} : { node }) } };
  return destination ? pino(options, destination) : pino(options);
}

/** The host's logger with `node` on every line: itself when it already carries that node, a child otherwise. */
export function loggerOfNode(logger: Logger, node: string): Logger {
  return logger.bindings()['node'] === node ? logger : logger.child({ node });
}
