import { execFileSync } from 'node:child_process';
import { readFileSync, renameSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { z } from 'zod';
import { type ScenarioResult, markdownTables, textTable } from './format.ts';
import type { Figure } from './scenario.ts';
import { failures } from './load/peerRun.ts';
import { PEERS, PEER_SETTINGS, pinningUsed } from './load/peerServer.ts';
import { LEGEND, comparisonTable, fanoutSvg, hasPeers, targetsSection } from './report.ts';
import { scenarios } from './registry.ts';
import { canCollectGarbage } from './stats.ts';

/*
 * The one entry point for benchmarks: `npm run bench [-- --full] [-- --only <name>]`.
 * Runs the registered scenarios one after another in this process, prints their figures, writes
 * them to bench/results/<date>-<commit>.json (the record: commit it) and rewrites bench/RESULTS.md.
 */

const USAGE = `usage: npm run bench -- [--full] [--only <name>[,<name>...]] [--peers <peer>[,<peer>...]]
  --full          bigger sizes and more samples (default: a quick run)
  --only <names>  run these scenarios: ${scenarios.map((s) => s.name).join(', ')}
  --peers <names> servers the peer scenarios run: ${PEERS.join(', ')} (default: all)
  --render <file> rewrite bench/RESULTS.md and the chart from a recorded run (bench/results/*.json), running nothing`;

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const BENCH = join(ROOT, 'bench');

function git(...args: string[]): string | null {
  try {
    return execFileSync('git', args, { cwd: ROOT, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
  } catch {
    return null;
  }
}

const versionOf = (pkg: string): string => {
  try {
    const parsed: unknown = JSON.parse(readFileSync(join(ROOT, 'node_modules', pkg, 'package.json'), 'utf8'));
    return typeof parsed === 'object' && parsed !== null && 'version' in parsed && typeof parsed.version === 'string' ? parsed.version : 'unknown';
  } catch {
    return 'not installed';
  }
};

/** The servers measured and what they run on: the record names every version. */
const PEER_PACKAGES = [
  '@y/websocket-server',
  '@y/websocket-server/node_modules/ws',
  'y-leveldb',
  'leveldown',
  '@hocuspocus/server',
  '@hocuspocus/extension-sqlite',
  'sqlite3',
  'ws',
  'better-sqlite3',
  'lib0',
  'y-protocols',
] as const;

function machine() {
  const cpus = os.cpus();
  return {
    cpu: cpus[0]?.model.trim() ?? 'unknown',
    cores: cpus.length,
    totalMemoryBytes: os.totalmem(),
    platform: `${os.platform()} ${os.arch()}`,
    node: process.version,
    yjs: versionOf('yjs'),
    loadAverage: os.loadavg().map((l) => Math.round(l * 100) / 100),
  };
}

function parse(): { quick: boolean; only: string | undefined; peers: string[] | undefined; render: string | undefined } {
  try {
    const { values } = parseArgs({
      options: {
        full: { type: 'boolean', default: false },
        only: { type: 'string' },
        peers: { type: 'string' },
        render: { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
      strict: true,
      allowPositionals: false,
    });
    if (values.help) {
      console.log(USAGE);
      process.exit(0);
    }
    const peers = values.peers?.split(',').map((p) => p.trim());
    const unknown = peers?.filter((p) => !(PEERS as readonly string[]).includes(p)) ?? [];
    if (unknown.length > 0) throw new Error(`unknown peer ${unknown.join(', ')}`);
    return { quick: !values.full, only: values.only, peers, render: values.render };
  } catch (error) {
    console.error(`${(error as Error).message}\n${USAGE}`);
    process.exit(2);
  }
}

/** A recorded run, as run.ts writes it (older records lack the later fields). NaN figures were written as null. */
const RecordSchema = z.object({
  date: z.string(),
  mode: z.enum(['quick', 'full']),
  only: z.string().nullable(),
  git: z.object({ commit: z.string(), dirty: z.boolean() }).nullable(),
  machine: z.object({
    cpu: z.string(),
    cores: z.number(),
    totalMemoryBytes: z.number(),
    platform: z.string(),
    node: z.string(),
    yjs: z.string(),
    loadAverage: z.array(z.number()).default([]),
  }),
  pinning: z.string().default('unknown'),
  inheritedEnv: z.record(z.string(), z.string()).default({}),
  versions: z.record(z.string(), z.string()).default({}),
  scenarios: z.array(
    z.object({
      name: z.string(),
      description: z.string(),
      durationMs: z.number(),
      figures: z.array(
        z.object({
          metric: z.string(),
          value: z.number().nullable().transform((v) => v ?? Number.NaN),
          unit: z.string(),
          note: z.string().optional(),
          peer: z.string().optional(),
          better: z.enum(['lower', 'higher']).optional(),
        }),
      ),
    }),
  ),
});

function writeReport(record: RecordHead, results: readonly ScenarioResult[], file: string): void {
  const svg = fanoutSvg(results);
  if (svg !== null) writeFileSync(join(BENCH, 'fanout-latency.svg'), svg);
  writeFileSync(join(BENCH, 'RESULTS.md'), resultsMarkdown(record, results, file, svg !== null));
}

function render(file: string): void {
  const path = resolve(file);
  const record = RecordSchema.parse(JSON.parse(readFileSync(path, 'utf8')));
  const results: ScenarioResult[] = record.scenarios.map((s) => ({ ...s, figures: s.figures.map(({ note, peer, better, ...f }) => ({ ...f, ...(note === undefined ? {} : { note }), ...(peer === undefined ? {} : { peer }), ...(better === undefined ? {} : { better }) })) }));
  writeReport(record, results, path);
  console.log(`bench/RESULTS.md rewritten from ${path.slice(ROOT.length)}`);
}

async function main(): Promise<void> {
  const { quick, only, peers, render: recorded } = parse();
  if (recorded !== undefined) return render(recorded);
  const names = only?.split(',').map((n) => n.trim());
  const selected = names === undefined ? scenarios : scenarios.filter((s) => names.includes(s.name));
  if (selected.length === 0) {
    console.error(`no scenario named ${only}\n${USAGE}`);
    process.exit(2);
  }
  if (!canCollectGarbage) console.warn('warning: no global.gc; run through `npm run bench` (node --expose-gc) for heap figures');

  const mode = quick ? 'quick' : 'full';
  const started = new Date();
  const results: ScenarioResult[] = [];
  for (const registered of selected) {
    process.stderr.write(`running ${registered.name} (${mode})...\n`);
    const scenario = await registered.load();
    if (scenario.name !== registered.name) throw new Error(`bench/registry.ts names ${registered.name} a scenario called ${scenario.name}`);
    const start = performance.now();
    let figures: Figure[];
    try {
      figures = await scenario.run(peers === undefined ? { quick } : { quick, peers });
    } catch (error) {
      // One broken scenario must not cost the others' figures; the run still exits non-zero.
      const message = error instanceof Error ? (error.stack ?? error.message) : String(error);
      console.error(`\n*** ${scenario.name} FAILED: ${message}\n`);
      failures.push(`${scenario.name}: ${message.split('\n')[0] ?? ''}`);
      figures = [{ metric: 'scenario failed', value: Number.NaN, unit: '', note: message.split('\n')[0] ?? '' }];
    }
    results.push({ name: scenario.name, description: scenario.description, durationMs: performance.now() - start, figures });
  }
  const totalMs = results.reduce((sum, r) => sum + r.durationMs, 0);

  const commit = git('rev-parse', 'HEAD');
  const record = {
    date: started.toISOString(),
    mode,
    only: only ?? null,
    git: commit === null ? null : { commit, dirty: (git('status', '--porcelain') ?? '') !== '' },
    machine: machine(),
    pinning: pinningUsed(),
    // Children inherit this environment: a PARLEY_* setting here changes what Parley measured.
    inheritedEnv: Object.fromEntries(Object.entries(process.env).filter(([k]) => /^(PARLEY_|YPERSISTENCE|HOCUSPOCUS_|CALLBACK_|GC$)/.test(k))),
    versions: Object.fromEntries(PEER_PACKAGES.map((p) => [p, versionOf(p)])),
    peers: PEER_SETTINGS,
    failures,
    totalMs: round(totalMs),
    scenarios: results.map((r) => ({ ...r, durationMs: round(r.durationMs), figures: r.figures.map((f) => ({ ...f, value: round(f.value) })) })),
  };

  // 2026-01-01T120000Z: ISO 8601 without colons, which some file systems refuse.
  const stamp = record.date.replace(/\.\d+Z$/, 'Z').replaceAll(':', '');
  const file = join(BENCH, 'results', `${stamp}-${commit?.slice(0, 7) ?? 'local'}.json`);
  writeFileSync(`${file}.tmp`, `${JSON.stringify(record, null, 2)}\n`);
  renameSync(`${file}.tmp`, file);
  writeReport(record, results, file);

  console.log(textTable(results));
  console.log(`${mode} run, ${(totalMs / 1000).toFixed(1)} s; figures written to ${file.slice(ROOT.length)} and bench/RESULTS.md`);
  if (failures.length > 0) {
    console.error(`\n${failures.length} peer run(s) FAILED:\n${failures.map((f) => `  - ${f}`).join('\n')}`);
    process.exitCode = 1;
  }
}

const round = (value: number): number => (Number.isFinite(value) ? Math.round(value * 1000) / 1000 : value);

interface RecordHead {
  date: string;
  mode: string;
  only: string | null;
  git: { commit: string; dirty: boolean } | null;
  machine: ReturnType<typeof machine>;
  pinning: string;
  versions: Readonly<Record<string, string>>;
  inheritedEnv: Readonly<Record<string, string | undefined>>;
}

function resultsMarkdown(record: RecordHead, results: readonly ScenarioResult[], file: string, chart: boolean): string {
  const m = record.machine;
  const v = record.versions;
  const commit = record.git === null ? 'no git' : `${record.git.commit.slice(0, 7)}${record.git.dirty ? ' (uncommitted changes)' : ''}`;
  const peerResults = results.filter(hasPeers);
  const out = [
    '# Benchmark results',
    '',
    'Written by `npm run bench` (bench/run.ts): do not edit. It shows the latest run only; every run is',
    'kept in `bench/results/`. Figures from different machines are not comparable.',
    '',
    `- Run: ${record.date}, ${record.mode}${record.only === null ? '' : `, only ${record.only}`} (\`${file.slice(ROOT.length)}\`)`,
    `- Commit: ${commit}`,
    `- Machine: ${m.cpu}, ${m.cores} cores, ${(m.totalMemoryBytes / 2 ** 30).toFixed(1)} GiB, ${m.platform}; load average at the end ${m.loadAverage.join(' ')}`,
    `- Node ${m.node}, Yjs ${m.yjs}`,
  ];
  const inherited = Object.entries(record.inheritedEnv);
  if (inherited.length > 0) out.push(`- **Environment the servers inherited** (changes what they measured): ${inherited.map(([k, v]) => `${k}=${v ?? ''}`).join(', ')}`);
  if (peerResults.length > 0) {
    out.push(
      `- Servers: Parley (this commit); raw \`ws\` ${v.ws} relay (bench/peers/rawRelay.ts); @y/websocket-server ${v['@y/websocket-server']} (its own ws ${v['@y/websocket-server/node_modules/ws']}), without persistence and with y-leveldb ${v['y-leveldb']} (leveldown ${v.leveldown}); @hocuspocus/server ${v['@hocuspocus/server']} with @hocuspocus/extension-sqlite ${v['@hocuspocus/extension-sqlite']} (sqlite3 ${v.sqlite3}). Hocuspocus 4.x needs Node >= 22: 3.4.4 is the newest that runs on Node 20.`,
      `- Each server in its own process (${record.pinning}); the load generator is this process. Settings per server: ${Object.entries(PEER_SETTINGS).map(([k, s]) => `**${k}**: ${s}`).join(' ')}`,
      '',
      `Columns: ${LEGEND}. Ratios (P / peer) are Parley / peer: below 1 is better for Parley where lower is better (latency, CPU, memory, bytes), above 1 where higher is better (throughput). n/a: the server cannot run that measurement (see the scenario's description).`,
    );
    if (chart) out.push('', '![Fan-out latency against N](fanout-latency.svg)');
    out.push('', targetsSection(results, record.mode === 'quick'));
  }
  out.push('');
  for (const result of results) out.push(hasPeers(result) ? comparisonTable(result) : markdownTables([result]));
  return out.join('\n');
}

await main();
