import type { Figure } from './scenario.ts';

/** Figures as printed and as written to RESULTS.md. */

export interface ScenarioResult {
  readonly name: string;
  readonly description: string;
  readonly durationMs: number;
  readonly figures: readonly Figure[];
}

/** Three significant digits below 100, whole numbers above, thousands grouped. */
export function formatValue(value: number): string {
  if (!Number.isFinite(value)) return String(value);
  const abs = Math.abs(value);
  const digits = abs >= 100 ? 0 : abs >= 10 ? 1 : 2;
  return value.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });
}

const HEADER = ['metric', 'value', 'unit', 'note'] as const;

function rows(result: ScenarioResult): string[][] {
  return result.figures.map((f) => [f.peer === undefined ? f.metric : `${f.metric} [${f.peer}]`, formatValue(f.value), f.unit, f.note ?? '']);
}

/** A plain aligned table per scenario, for the terminal. */
export function textTable(results: readonly ScenarioResult[]): string {
  const out: string[] = [];
  for (const result of results) {
    const body = rows(result);
    const widths = HEADER.map((h, c) => Math.max(h.length, ...body.map((r) => (r[c] ?? '').length)));
    const line = (cells: readonly string[]): string =>
      cells
        .map((cell, c) => (c === 1 ? cell.padStart(widths[c] ?? 0) : cell.padEnd(widths[c] ?? 0)))
        .join('  ')
        .trimEnd();
    out.push(`${result.name} (${(result.durationMs / 1000).toFixed(1)} s): ${result.description}`, '');
    out.push(line(HEADER), line(widths.map((w) => '-'.repeat(w))), ...body.map(line), '');
  }
  return out.join('\n');
}

const cell = (text: string): string => text.replaceAll('|', '\\|');

/** One Markdown table per scenario. */
export function markdownTables(results: readonly ScenarioResult[]): string {
  const out: string[] = [];
  for (const result of results) {
    out.push(`## ${result.name}`, '', `${cell(result.description)} (${(result.durationMs / 1000).toFixed(1)} s)`, '');
    out.push('| Metric | Value | Unit | Note |', '| --- | ---: | --- | --- |');
    for (const r of rows(result)) out.push(`| ${r.map(cell).join(' | ')} |`);
    out.push('');
  }
  return out.join('\n');
}
