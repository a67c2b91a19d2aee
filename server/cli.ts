#!/usr/bin/env node
import { ConfigError, CLI_USAGE, loadConfig, wantsHelp } from './config.ts';
import { createLogger } from './log.ts';
import { startServer } from './ParleyServer.ts';
import { runReindexCommand } from './search/reindexCommand.ts';
import { runGcAttachmentsCommand } from './attachments/gcAttachmentsCommand.ts';
import { lowerHelperThreads } from './workers/lowerHelperThreads.ts';

/*
 * The `parley` command: `parley serve [options]` (or `parley [options]`) runs the sync server
 * from the compiled package with plain node; `--help` prints the options. Settings come from
 * flags, then the environment (README, "Configuration"). `parley reindex` rebuilds the message
 * search index from the stored rooms (docs/search.md); `parley gc-attachments` runs the attachment
 * garbage collection by hand (docs/attachments.md).
 */

const [first, ...rest] = process.argv.slice(2);
if (first === 'reindex') process.exit(runReindexCommand(rest, process.env, { log: (line) => console.log(line), error: (line) => console.error(line) }));
if (first === 'gc-attachments') process.exit(await runGcAttachmentsCommand(rest, process.env, { log: (line) => console.log(line), error: (line) => console.error(line) }));
let argv: string[];
if (first === undefined || first.startsWith('-')) argv = first === undefined ? [] : [first, ...rest];
else if (first === 'serve') argv = rest;
else if (first === 'help') argv = ['--help'];
else {
  console.error(`parley: unknown command "${first}"\n${CLI_USAGE}`);
  process.exit(2);
}
if (wantsHelp(argv)) {
  console.log(CLI_USAGE);
  process.exit(0);
}

let config;
try {
  config = loadConfig(process.env, argv);
} catch (err) {
  if (err instanceof ConfigError) {
    console.error(err.message);
    process.exit(2);
  }
  throw err;
}

const logger = createLogger(config.logLevel, config.nodeId);
// The main thread first: V8's and libuv's helper threads yield the CPU to it (lowerHelperThreads).
const lowered = await lowerHelperThreads();
const server = await startServer(config, logger);
logger.info({ url: server.url, dataDir: config.dataDir, devLogin: config.devLogin, helperThreadsLowered: lowered }, 'parley listening');
if (config.devLogin) {
  console.warn(
    '\n  WARNING: dev login is ON. Anyone who can reach this server can sign in as any name.\n' +
      '  Never run with --dev / PARLEY_DEV_LOGIN=1 in production; set PARLEY_JWT_SECRET instead.\n',
  );
}
console.log(`\n  Parley is running at ${server.url}\n`);

let stopping = false;
const stop = (signal: NodeJS.Signals) => {
  if (stopping) return;
  stopping = true;
  logger.info({ signal }, 'shutting down');
  server.close().then(
    () => process.exit(0),
    (err: unknown) => {
      logger.error({ err }, 'shutdown failed');
      process.exit(1);
    },
  );
};
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
