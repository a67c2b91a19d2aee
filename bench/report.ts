import { type ScenarioResult, formatValue } from './format.ts';
import { PEERS, TRAITS, type PeerName } from './load/peerServer.ts';
import type { Figure } from './scenario.ts';
import { TARGETS, type TargetOutcome, judge } from './targets.ts';

/*
 * The side-by-side part of RESULTS.md: for a scenario whose figures name their server, one row
 * per metric with every server's value and the ratio Parley/peer; the targets of issue 5 judged
 * against the run; and the fan-out chart (latency against N), drawn as plain SVG.
 */

const cell = (text: string): string => text.replaceAll('|', '\\|');
const isPeer = (name: string): name is PeerName => (PEERS as readonly string[]).includes(name);
const label = (peer: string): string => (isPeer(peer) ? TRAITS[peer].label : peer);
const short = (peer: string): string => (isPeer(peer) ? TRAITS[peer].short : peer);

/** What the short column names stand for. */
export const LEGEND = PEERS.map((p) => `${TRAITS[p].short} = ${TRAITS[p].label}`).join('; ');

export const hasPeers = (result: ScenarioResult): boolean => result.figures.some((f) => f.peer !== undefined);

function ratio(parley: number | undefined, peer: number | undefined): string {
  if (parley === undefined || peer === undefined || !Number.isFinite(parley) || !Number.isFinite(peer)) return '–';
  // A ratio of a zero or negative figure (an RSS that shrank) says nothing.
  if (peer <= 0 || parley <= 0) return '–';
  return `${(parley / peer).toFixed(2)}×`;
}

/** One comparison table for a peer scenario, then the notes per figure. */
export function comparisonTable(result: ScenarioResult): string {
  const peers = PEERS.filter((p) => result.figures.some((f) => f.peer === p));
  const others = peers.filter((p) => p !== 'parley');
  const metrics = [...new Set(result.figures.filter((f) => f.metric !== 'run failed').map((f) => f.metric))];
  const get = (metric: string, peer: string): Figure | undefined => result.figures.find((f) => f.metric === metric && f.peer === peer);
  const failed = result.figures.filter((f) => f.metric === 'run failed');

  const out: string[] = [`## ${result.name}`, '', `${cell(result.description)} (${(result.durationMs / 1000).toFixed(1)} s)`, ''];
  const ratioHeads = peers.includes('parley') ? others.map((p) => `P / ${short(p)}`) : [];
  out.push(`| Metric | Unit | Better | ${peers.map(short).join(' | ')}${ratioHeads.length ? ` | ${ratioHeads.join(' | ')}` : ''} |`);
  out.push(`| --- | --- | --- | ${peers.map(() => '---:').join(' | ')}${ratioHeads.length ? ` | ${ratioHeads.map(() => '---:').join(' | ')}` : ''} |`);
  for (const metric of metrics) {
    const any = result.figures.find((f) => f.metric === metric);
    const values = peers.map((p) => {
      const f = get(metric, p);
      if (f) return Number.isFinite(f.value) ? formatValue(f.value) : '–';
      return failed.some((x) => x.peer === p) ? 'failed' : 'n/a';
    });
    const parley = get(metric, 'parley')?.value;
    const ratios = ratioHeads.length ? others.map((p) => ratio(parley, get(metric, p)?.value)) : [];
    const better = any?.better === 'lower' ? 'lower' : any?.better === 'higher' ? 'higher' : '';
    out.push(`| ${cell(metric)} | ${cell(any?.unit ?? '')} | ${better} | ${values.join(' | ')}${ratios.length ? ` | ${ratios.join(' | ')}` : ''} |`);
  }
  out.push('');
  if (failed.length > 0) {
    out.push('**Failed runs:**', '');
    for (const f of failed) out.push(`- ${label(f.peer ?? '?')}: ${cell(f.note ?? '')}`);
    out.push('');
  }
  const notes = result.figures.filter((f) => f.note && f.metric !== 'run failed');
  if (notes.length > 0) {
    out.push('<details><summary>Notes per figure</summary>', '');
    for (const f of notes) out.push(`- ${cell(f.metric)}, ${label(f.peer ?? '')}: ${cell(f.note ?? '')}`);
    out.push('', '</details>', '');
  }
  return out.join('\n');
}

const STATUS: Record<TargetOutcome['status'], string> = { met: 'met', missed: '**missed**', 'not measured': 'not measured' };

/** The issue's targets, judged on this run. */
export function targetsSection(results: readonly ScenarioResult[], quick: boolean): string {
  const figures = new Map<string, Figure[]>(results.map((r) => [r.name, [...r.figures]]));
  const out = ['## Targets (issue 5)', ''];
  if (quick) out.push('A quick run measures smaller sizes (fewer samples, 100 presence clients, 50 rooms): it shows the shape, the full run (`-- --full`) is the one to judge.', '');
  out.push('| Target | Parley | Compared with | Ratio | Status |', '| --- | ---: | --- | ---: | --- |');
  const outcomes = TARGETS.map((t) => ({ target: t, outcome: judge(t, figures) }));
  for (const { target, outcome } of outcomes) {
    out.push(`| ${cell(target.title)} | ${cell(outcome.parley)} | ${cell(outcome.against)} | ${cell(outcome.ratio)} | ${STATUS[outcome.status]}${outcome.detail ? `: ${cell(outcome.detail)}` : ''} |`);
  }
  out.push('');
  const missed = outcomes.filter((o) => o.outcome.status === 'missed');
  if (missed.length > 0) {
    out.push('### Where Parley misses, and why', '');
    for (const { target, outcome } of missed) out.push(`- **${target.title}**: ${outcome.detail}. ${target.why}`, '');
  }
  return out.join('\n');
}

// ---- the fan-out chart -----------------------------------------------------------------------

const COLORS: Record<PeerName, string> = {
  parley: '#d62728',
  'raw-ws': '#7f7f7f',
  'y-relay': '#1f77b4',
  'y-relay-leveldb': '#17becf',
  hocuspocus: '#2ca02c',
};

/** Latency p50 (dashed) and p99 (solid) against N, log-log, one colour per server; null without fan-out figures. */
export function fanoutSvg(results: readonly ScenarioResult[]): string | null {
  const fanout = results.find((r) => r.name === 'peerFanout');
  if (!fanout) return null;
  const points = fanout.figures
    .map((f) => {
      const m = /^N=(\d+): latency (p50|p99)$/.exec(f.metric);
      return m && f.peer && isPeer(f.peer) && Number.isFinite(f.value) && f.value > 0 ? { n: Number(m[1]), q: m[2] as 'p50' | 'p99', peer: f.peer, ms: f.value } : null;
    })
    .filter((p) => p !== null);
  if (points.length === 0) return null;

  const W = 820;
  const H = 440;
  const pad = { left: 64, right: 260, top: 40, bottom: 52 };
  const ns = [...new Set(points.map((p) => p.n))].sort((a, b) => a - b);
  const nMin = Math.min(...ns);
  const nMax = Math.max(...ns);
  const yMin = 10 ** Math.floor(Math.log10(Math.min(...points.map((p) => p.ms))));
  const yMax = 10 ** Math.ceil(Math.log10(Math.max(...points.map((p) => p.ms))));
  const x = (n: number): number => pad.left + (nMax === nMin ? 0.5 : (Math.log10(n) - Math.log10(nMin)) / (Math.log10(nMax) - Math.log10(nMin))) * (W - pad.left - pad.right);
  const y = (ms: number): number => H - pad.bottom - ((Math.log10(ms) - Math.log10(yMin)) / (Math.log10(yMax) - Math.log10(yMin))) * (H - pad.top - pad.bottom);

  const svg: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="sans-serif" font-size="12">`,
    `<rect width="${W}" height="${H}" fill="white"/>`,
    `<text x="${pad.left}" y="22" font-size="15" font-weight="bold">Fan-out: send -> receive latency at every observer</text>`,
  ];
  for (let decade = yMin; decade <= yMax; decade *= 10) {
    svg.push(`<line x1="${pad.left}" x2="${W - pad.right}" y1="${y(decade)}" y2="${y(decade)}" stroke="#ddd"/>`);
    svg.push(`<text x="${pad.left - 8}" y="${y(decade) + 4}" text-anchor="end">${decade >= 1 ? decade : decade.toFixed(-Math.log10(decade))} ms</text>`);
  }
  for (const n of ns) {
    svg.push(`<line x1="${x(n)}" x2="${x(n)}" y1="${pad.top}" y2="${H - pad.bottom}" stroke="#eee"/>`);
    svg.push(`<text x="${x(n)}" y="${H - pad.bottom + 18}" text-anchor="middle">${n}</text>`);
  }
  svg.push(`<text x="${(pad.left + W - pad.right) / 2}" y="${H - 12}" text-anchor="middle">observers in the room (N), log scale</text>`);
  svg.push(`<line x1="${pad.left}" x2="${pad.left}" y1="${pad.top}" y2="${H - pad.bottom}" stroke="#333"/>`);
  svg.push(`<line x1="${pad.left}" x2="${W - pad.right}" y1="${H - pad.bottom}" y2="${H - pad.bottom}" stroke="#333"/>`);

  const peers = PEERS.filter((p) => points.some((pt) => pt.peer === p));
  peers.forEach((peer, i) => {
    for (const q of ['p99', 'p50'] as const) {
      const line = points.filter((p) => p.peer === peer && p.q === q).sort((a, b) => a.n - b.n);
      if (line.length === 0) continue;
      const d = line.map((p, j) => `${j === 0 ? 'M' : 'L'}${x(p.n).toFixed(1)},${y(p.ms).toFixed(1)}`).join(' ');
      const width = peer === 'parley' ? 3 : 2;
      svg.push(`<path d="${d}" fill="none" stroke="${COLORS[peer]}" stroke-width="${width}"${q === 'p50' ? ' stroke-dasharray="5,4"' : ''}/>`);
      for (const p of line) svg.push(`<circle cx="${x(p.n).toFixed(1)}" cy="${y(p.ms).toFixed(1)}" r="3" fill="${COLORS[peer]}"><title>${label(peer)} ${q} at N=${p.n}: ${formatValue(p.ms)} ms</title></circle>`);
    }
    const ly = pad.top + 10 + i * 22;
    svg.push(`<line x1="${W - pad.right + 16}" x2="${W - pad.right + 40}" y1="${ly}" y2="${ly}" stroke="${COLORS[peer]}" stroke-width="3"/>`);
    svg.push(`<text x="${W - pad.right + 46}" y="${ly + 4}">${label(peer)}</text>`);
  });
  const ly = pad.top + 10 + peers.length * 22 + 10;
  svg.push(`<line x1="${W - pad.right + 16}" x2="${W - pad.right + 40}" y1="${ly}" y2="${ly}" stroke="#333" stroke-width="2"/><text x="${W - pad.right + 46}" y="${ly + 4}">p99</text>`);
  svg.push(`<line x1="${W - pad.right + 16}" x2="${W - pad.right + 40}" y1="${ly + 20}" y2="${ly + 20}" stroke="#333" stroke-width="2" stroke-dasharray="5,4"/><text x="${W - pad.right + 46}" y="${ly + 24}">p50</text>`);
  svg.push('</svg>', '');
  return svg.join('\n');
}
