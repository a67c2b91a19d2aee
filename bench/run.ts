import { execFileSync } from 'node:child_process';
import { readFileSync, renameSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { type ScenarioResult, markdownTables, textTable } from './format.ts';
import { scenarios } from './registry.ts';
import { canCollectGarbage } from './stats.ts';

/*
 * The one entry point for benchmarks: `npm run bench [-- --full] [-- --only <name>]`.
 * Runs the registered scenarios one after another in this process, prints their figures, writes
 * them to bench/results/<date>-<commit>.json (the record: commit it) and rewrites bench/RESULTS.md.
 */

const USAGE = `usage: npm run bench -- [--full] [--only <name>]
  --full         bigger sizes and more samples (default: a quick run)
  --only <name>  run one scenario: ${scenarios.map((s) => s.name).join(', ')}`;

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const BENCH = join(ROOT, 'bench');

function git(...args: string[]): string | null {
  try {
    return execFileSync('git', args, { cwd: ROOT, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
  } catch {
    return null;
  }
}

function machine() {
  const cpus = os.cpus();
  const yjs = JSON.parse(readFileSync(join(ROOT, 'node_modules/yjs/package.json'), 'utf8')) as { version: string };
  return {
    cpu: cpus[0]?.model.trim() ?? 'unknown',
    cores: cpus.length,
    totalMemoryBytes: os.totalmem(),
    platform: `${os.platform()} ${os.arch()}`,
    node: process.version,
    yjs: yjs.version,
  };
}

function parse(): { quick: boolean; only: string | undefined } {
  try {
    const { values } = parseArgs({
      options: { full: { type: 'boolean', default: false }, only: { type: 'string' }, help: { type: 'boolean', short: 'h' } },
      strict: true,
      allowPositionals: false,
    });
    if (values.help) {
      console.log(USAGE);
      process.exit(0);
    }
    return { quick: !values.full, only: values.only };
  } catch (error) {
    console.error(`${(error as Error).message}\n${USAGE}`);
    process.exit(2);
  }
}

async function main(): Promise<void> {
  const { quick, only } = parse();
  const selected = only === undefined ? scenarios : scenarios.filter((s) => s.name === only);
  if (selected.length === 0) {
    console.error(`no scenario named ${only}\n${USAGE}`);
    process.exit(2);
  }
  if (!canCollectGarbage) console.warn('warning: no global.gc; run through `npm run bench` (node --expose-gc) for heap figures');

  const mode = quick ? 'quick' : 'full';
  const started = new Date();
  const results: ScenarioResult[] = [];
  for (const scenario of selected) {
    process.stderr.write(`running ${scenario.name} (${mode})...\n`);
    const start = performance.now();
    const figures = await scenario.run({ quick });
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
    totalMs: round(totalMs),
    scenarios: results.map((r) => ({ ...r, durationMs: round(r.durationMs), figures: r.figures.map((f) => ({ ...f, value: round(f.value) })) })),
  };

  // 2026-01-01T120000Z: ISO 8601 without colons, which some file systems refuse.
  const stamp = record.date.replace(/\.\d+Z$/, 'Z').replaceAll(':', '');
  const file = join(BENCH, 'results', `${stamp}-${commit?.slice(0, 7) ?? 'local'}.json`);
  writeFileSync(`${file}.tmp`, `${JSON.stringify(record, null, 2)}\n`);
  renameSync(`${file}.tmp`, file);
  writeFileSync(join(BENCH, 'RESULTS.md'), resultsMarkdown(record, results, file));

  console.log(textTable(results));
  console.log(`${mode} run, ${(totalMs / 1000).toFixed(1)} s; figures written to ${file.slice(ROOT.length)} and bench/RESULTS.md`);
}

const round = (value: number): number => Math.round(value * 1000) / 1000;

function resultsMarkdown(record: { date: string; mode: string; only: string | null; git: { commit: string; dirty: boolean } | null; machine: ReturnType<typeof machine> }, results: readonly ScenarioResult[], file: string): string {
  const m = record.machine;
  const commit = record.git === null ? 'no git' : `${record.git.commit.slice(0, 7)}${record.git.dirty ? ' (uncommitted changes)' : ''}`;
  return [
    '# Benchmark results',
    '',
    'Written by `npm run bench` (bench/run.ts): do not edit. It shows the latest run only; every run is',
    'kept in `bench/results/`. Figures from different machines are not comparable.',
    '',
    `- Run: ${record.date}, ${record.mode}${record.only === null ? '' : `, only ${record.only}`} (\`${file.slice(ROOT.length)}\`)`,
    `- Commit: ${commit}`,
    `- Machine: ${m.cpu}, ${m.cores} cores, ${(m.totalMemoryBytes / 2 ** 30).toFixed(1)} GiB, ${m.platform}`,
    `- Node ${m.node}, Yjs ${m.yjs}`,
    '',
    markdownTables(results),
  ].join('\n');
}

await main();
