import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { closeSync, mkdirSync, openSync, readFileSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';

/*
 * Starts and stops the servers under test, each in its own child process (pinned to core 0 where
 * the machine has two cores or more), and reads their CPU, memory and event-loop delay through
 * bench/peers/probe.mjs, which every server has preloaded. Every child is registered until it has
 * exited, and killed if this process exits or is interrupted first: no orphans.
 */

export const PEERS = ['parley', 'raw-ws', 'y-relay', 'y-relay-leveldb', 'hocuspocus'] as const;
export type PeerName = (typeof PEERS)[number];

/** How clients talk to a peer: y-websocket framing (Parley, the reference relay), Hocuspocus's own, or anything (raw relay). */
export type Protocol = 'y-websocket' | 'hocuspocus' | 'raw';

export interface PeerTraits {
  readonly label: string;
  /** For table headings. */
  readonly short: string;
  readonly protocol: Protocol;
  /** Keeps the document and answers sync step 1 (the raw relay does not). */
  readonly holdsState: boolean;
  /** Writes documents to disk, so they survive a restart. */
  readonly persists: boolean;
}

export const TRAITS: Record<PeerName, PeerTraits> = {
  parley: { label: 'Parley', short: 'Parley', protocol: 'y-websocket', holdsState: true, persists: true },
  'raw-ws': { label: 'raw ws relay', short: 'raw ws', protocol: 'raw', holdsState: false, persists: false },
  'y-relay': { label: 'y-websocket-server', short: 'y-ws', protocol: 'y-websocket', holdsState: true, persists: false },
  'y-relay-leveldb': { label: 'y-websocket-server + y-leveldb', short: 'y-ws+leveldb', protocol: 'y-websocket', holdsState: true, persists: true },
  hocuspocus: { label: 'Hocuspocus + SQLite', short: 'Hocuspocus', protocol: 'hocuspocus', holdsState: true, persists: true },
};

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const PROBE = join(ROOT, 'bench/peers/probe.mjs');
const SCRIPTS: Record<Exclude<PeerName, 'parley'>, string> = {
  'raw-ws': 'bench/peers/rawRelay.ts',
  'y-relay': 'bench/peers/yRelay.ts',
  'y-relay-leveldb': 'bench/peers/yRelay.ts',
  hocuspocus: 'bench/peers/hocuspocus.ts',
};
const READY_TIMEOUT_MS = 30_000;
const STOP_TIMEOUT_MS = 20_000;
const PROBE_TIMEOUT_MS = 30_000;

const ProbeSchema = z.object({
  probe: z.number(),
  cpuMs: z.number(),
  rssBytes: z.number(),
  peakRssBytes: z.number(),
  heapUsedBytes: z.number(),
  delay: z.object({ p50Ms: z.number(), p99Ms: z.number(), maxMs: z.number(), samples: z.number() }),
  /** Parley's group commits since the last reset (count 0 for the peers, which publish none). */
  commits: z.object({ p50Ms: z.number(), p99Ms: z.number(), maxMs: z.number(), totalMs: z.number(), count: z.number() }),
});
export type Probe = z.infer<typeof ProbeSchema>;

/** How each server is run, for the record and RESULTS.md. */
export const PEER_SETTINGS: Record<PeerName, string> = {
  parley:
    'dist/server/cli.js (compiled, plain JavaScript), SQLite WAL synchronous=FULL (the default), log level info (to a file), default limits except where a scenario says (fan-out and durability raise PARLEY_RATE_PER_SEC/PARLEY_RATE_BURST to 1e6; idle memory sets PARLEY_ROOM_IDLE_MS=2000).',
  'raw-ws': 'forwards every frame to the other sockets on the same path, no decoding, no state.',
  'y-relay': "its own setupWSConnection, as its bin wires it; no persistence (rooms stay in memory for the process's life).",
  'y-relay-leveldb': 'the same with YPERSISTENCE=<dir>: every update appended to y-leveldb as it arrives (not awaited), no acknowledgement.',
  hocuspocus:
    'new Server({ extensions: [new SQLite({ database: <file> })] }), defaults: debounce 2000 ms, maxDebounce 10000 ms (whole-document store), unloadImmediately; no auth hook; clients speak its wire format directly.',
};

// ---- pinning -------------------------------------------------------------------------------

/** Where pinLoad puts the servers, and the load generator (with every client process it starts). */
export const SERVER_CORE = 0;
export const CLIENT_CORE = 1;

let pinning: 'server core 0, load core 1' | 'none' | undefined;

/** What pinLoad() did, for the record; 'no peer scenario ran' before any call. */
export const pinningUsed = (): string => (pinning === undefined ? 'no peer scenario ran' : pinning === 'none' ? 'not pinned' : `pinned with taskset: ${pinning}`);

/** Whether servers and load are pinned apart (taskset, two cores or more); pins this process to core 1 on first call. */
export function pinLoad(): 'server core 0, load core 1' | 'none' {
  if (pinning !== undefined) return pinning;
  pinning = 'none';
  if (os.platform() !== 'linux' || os.availableParallelism() < 2) return pinning;
  if (pinToCore(process.pid, CLIENT_CORE)) pinning = 'server core 0, load core 1';
  else console.warn('bench: taskset failed; servers and load share every core');
  return pinning;
}

/** Pins every thread of process `pid` (libuv pool, V8 helpers, not only the main one) to `core`; false when taskset fails. */
export function pinToCore(pid: number, core: number): boolean {
  try {
    execFileSync('taskset', ['-a', '-p', '-c', String(core), String(pid)], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

// ---- children ------------------------------------------------------------------------------

const live = new Set<ChildProcess>();

/** Kills every server child still running (SIGKILL). Safe to call more than once. */
export function killAllPeers(): void {
  for (const child of live) child.kill('SIGKILL');
  live.clear();
}
process.once('exit', killAllPeers);
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    killAllPeers();
    process.exit(130);
  });
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = net.createServer();
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const address = probe.address();
      const port = typeof address === 'object' && address !== null ? address.port : 0;
      probe.close(() => resolve(port));
    });
  });
}

export interface RunningPeer {
  readonly name: PeerName;
  readonly traits: PeerTraits;
  readonly pid: number;
  readonly httpUrl: string;
  readonly dataDir: string;
  /** Rejects as soon as the child exits without being asked to: race every wait against it. */
  readonly died: Promise<never>;
  /** The WebSocket URL for a room (and the document name, for Hocuspocus's framing). */
  endpoint(room: string, token: string, opts?: { parley?: boolean }): { url: string; docName: string };
  probe(opts?: { gc?: boolean; resetDelay?: boolean; timeoutMs?: number }): Promise<Probe>;
  /** CPU time and RSS from /proc (Linux), which answers even when the server's event loop does not; from the probe elsewhere. */
  usage(): Promise<{ cpuMs: number; rssBytes: number }>;
  /** SIGTERM, then the exit code; SIGKILL (and 'timeout') if it does not stop in time. */
  stop(): Promise<number | string>;
  /** SIGKILL at once (a node dying without a word); resolves once it is gone. */
  kill(): Promise<void>;
}

export interface StartOptions {
  /** A directory the server may write (its database, its log file). Must exist. */
  readonly dataDir: string;
  /** Extra environment: for Parley, limits raised by a scenario; say so in its figures. */
  readonly env?: Readonly<Record<string, string>>;
  /** Parley's HS256 secret (tokens are minted by the harness). */
  readonly secret?: string;
}

export async function startPeer(name: PeerName, opts: StartOptions): Promise<RunningPeer> {
  const port = await freePort();
  const env: Record<string, string> = { ...stringEnv(process.env), PORT: String(port), HOST: '127.0.0.1' };
  let script: string;
  if (name === 'parley') {
    // The compiled server, as an installed package runs it (`npm run bench` builds it first).
    script = 'dist/server/cli.js';
    env.PARLEY_DATA_DIR = opts.dataDir;
    env.PARLEY_JWT_SECRET = opts.secret ?? 'bench-secret-bench-secret-bench-secret!';
  } else {
    script = SCRIPTS[name];
    if (name === 'y-relay-leveldb') env.YPERSISTENCE = join(opts.dataDir, 'leveldb');
    if (name === 'hocuspocus') env.HOCUSPOCUS_DB = join(opts.dataDir, 'hocuspocus.db');
  }
  Object.assign(env, opts.env ?? {});

  mkdirSync(opts.dataDir, { recursive: true });
  const logFile = join(opts.dataDir, `${name}.log`);
  const logFd = openSync(logFile, 'a');
  // Parley runs compiled, with no loader; the peers' scripts are TypeScript, which tsx loads.
  const loader = name === 'parley' ? [] : ['--import', 'tsx'];
  // PARLEY_BENCH_CPU_PROF=<dir>: a V8 CPU profile of each Parley server process, written when it stops.
  const profile = name === 'parley' && process.env.PARLEY_BENCH_CPU_PROF ? ['--cpu-prof', `--cpu-prof-dir=${process.env.PARLEY_BENCH_CPU_PROF}`] : [];
  // PARLEY_BENCH_NODE_FLAGS="--trace-gc ...": more node flags for each Parley server (their output goes to its log).
  const extra = name === 'parley' && process.env.PARLEY_BENCH_NODE_FLAGS ? process.env.PARLEY_BENCH_NODE_FLAGS.split(' ').filter(Boolean) : [];
  const nodeArgs = ['--expose-gc', ...extra, ...profile, ...loader, '--import', PROBE, script];
  const pinned = pinLoad() !== 'none';
  const command = pinned ? 'taskset' : process.execPath;
  const args = pinned ? ['-c', String(SERVER_CORE), process.execPath, ...nodeArgs] : nodeArgs;
  let child: ChildProcess;
  try {
    child = spawn(command, args, { cwd: ROOT, env, stdio: ['ignore', logFd, logFd, 'ipc'] });
  } finally {
    closeSync(logFd);
  }
  live.add(child);
  // PARLEY_BENCH_KEEP_LOG=<dir>: each server's log copied there as <pid>.log when it exits (its data dir is removed).
  const keepLog = process.env.PARLEY_BENCH_KEEP_LOG;
  if (keepLog) mkdirSync(keepLog, { recursive: true });
  if (keepLog) child.once('exit', () => writeFileSync(join(keepLog, `${child.pid ?? 'unknown'}.log`), readFileSync(logFile)));
  let stopping = false;
  const exited = new Promise<number | string>((resolve) =>
    child.once('exit', (code, signal) => {
      live.delete(child);
      resolve(code ?? signal ?? -1);
    }),
  );
  const tail = (): string => {
    try {
      return readFileSync(logFile, 'utf8').slice(-2000);
    } catch {
      return '';
    }
  };
  const died = exited.then((code): never => {
    throw new Error(`${name} exited (${code})${stopping ? '' : ' during the run'}; its log ends:\n${tail()}`);
  });
  died.catch(() => {});

  const pending = new Map<number, (probe: Probe) => void>();
  let nextProbe = 1;
  child.on('message', (message: unknown) => {
    const parsed = ProbeSchema.safeParse(message);
    if (!parsed.success) return;
    pending.get(parsed.data.probe)?.(parsed.data);
    pending.delete(parsed.data.probe);
  });

  const httpUrl = `http://127.0.0.1:${port}`;
  const stop = async (): Promise<number | string> => {
    stopping = true;
    if (child.exitCode !== null || child.signalCode !== null) return exited;
    child.kill('SIGTERM');
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<'timeout'>((resolve) => (timer = setTimeout(() => resolve('timeout'), STOP_TIMEOUT_MS)));
    const outcome = await Promise.race([exited, timedOut]);
    clearTimeout(timer);
    if (outcome !== 'timeout') return outcome;
    child.kill('SIGKILL');
    await exited;
    return 'timeout';
  };

  const probe = ({ gc = false, resetDelay = false, timeoutMs = PROBE_TIMEOUT_MS }: { gc?: boolean; resetDelay?: boolean; timeoutMs?: number } = {}): Promise<Probe> => {
    const id = nextProbe++;
    return new Promise<Probe>((resolve, reject) => {
      const timer = setTimeout(() => {
        pending.delete(id);
        reject(new ProbeTimeout(`${name} did not answer a probe within ${timeoutMs / 1000} s (its event loop is that far behind)`));
      }, timeoutMs);
      pending.set(id, (probe) => {
        clearTimeout(timer);
        resolve(probe);
      });
      child.send({ probe: id, gc, resetDelay }, (error) => {
        if (error) {
          clearTimeout(timer);
          pending.delete(id);
          reject(error);
        }
      });
    });
  };

  try {
    await Promise.race([waitReady(httpUrl), died]);
  } catch (error) {
    await stop();
    throw error;
  }

  return {
    name,
    traits: TRAITS[name],
    pid: child.pid ?? -1,
    httpUrl,
    dataDir: opts.dataDir,
    died,
    endpoint(room, token, { parley = false } = {}) {
      const base = `ws://127.0.0.1:${port}`;
      switch (TRAITS[name].protocol) {
        case 'hocuspocus':
          return { url: base, docName: room };
        case 'raw':
          return { url: `${base}/${room}`, docName: room };
        case 'y-websocket':
          if (name !== 'parley') return { url: `${base}/${room}`, docName: room };
          return { url: `${base}/sync/${room}?token=${encodeURIComponent(token)}${parley ? '&parley=1' : ''}`, docName: room };
      }
    },
    async usage() {
      return procStats(child.pid ?? -1) ?? (await probe());
    },
    probe,
    stop,
    async kill() {
      stopping = true;
      child.kill('SIGKILL');
      await exited;
    },
  };
}

export class ProbeTimeout extends Error {
  override name = 'ProbeTimeout';
}

/** CPU (user + system, all threads, 10 ms ticks) and RSS of a process, from /proc; null off Linux. */
export function procStats(pid: number): { cpuMs: number; rssBytes: number } | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // After "pid (comm) ": utime and stime are fields 14 and 15, in USER_HZ (100/s) ticks.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const rssKb = Number(/^VmRSS:\s+(\d+) kB/m.exec(status)?.[1] ?? Number.NaN);
    return { cpuMs: (Number(fields[11]) + Number(fields[12])) * 10, rssBytes: rssKb * 1024 };
  } catch {
    return null;
  }
}

function stringEnv(env: NodeJS.ProcessEnv): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [key, value] of Object.entries(env)) if (value !== undefined) out[key] = value;
  return out;
}

async function waitReady(url: string): Promise<void> {
  const deadline = Date.now() + READY_TIMEOUT_MS;
  for (;;) {
    try {
      const res = await fetch(`${url}/`, { signal: AbortSignal.timeout(1000) });
      await res.arrayBuffer();
      return;
    } catch {
      if (Date.now() > deadline) throw new Error(`server at ${url} not ready within ${READY_TIMEOUT_MS / 1000} s`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }
}
