/** Formatting of results: the console table (runtime-agnostic). */
import { ratioOf, type CaseResult } from './measure.ts';

export interface Machine { cpu: string; cores: number; runtime: string }

export interface SuiteResult {
  suite: string;
  date: string;
  machine: Machine;
  results: CaseResult[];
}

export function fmt(x: number | string | null | undefined): string {
  if (x === null || x === undefined) return '—';
  if (typeof x === 'string') return x;
  if (!isFinite(x)) return String(x);
  const a = Math.abs(x);
  if (a >= 1e6) return `${(x / 1e6).toFixed(a >= 1e8 ? 0 : a >= 1e7 ? 1 : 2)}M`;
  if (a >= 1e4) return `${(x / 1e3).toFixed(a >= 1e5 ? 0 : 1)}k`;
  if (a >= 100) return x.toFixed(0);
  if (a >= 10) return x.toFixed(1);
  if (a >= 1) return x.toFixed(2);
  return x.toPrecision(3);
}

export function fmtRatio(x: number | null | undefined): string {
  if (x === null || x === undefined) return '—';
  return x >= 100 ? `${x.toFixed(0)}×` : x >= 10 ? `${x.toFixed(1)}×` : `${x.toFixed(2)}×`;
}

const pad = (s: string, n: number): string => (s.length >= n ? s : s + ' '.repeat(n - s.length));
const lpad = (s: string, n: number): string => (s.length >= n ? s : ' '.repeat(n - s.length) + s);

/** One block per case: each contender's median, range, and wafka's ratio to it. */
export function caseTable(r: CaseResult): string {
  const lines: string[] = [];
  lines.push(`${r.metric}  [${r.unit}, ${r.higherIsBetter ? 'higher' : 'lower'} is better]`);
  const row = (name: string, v: number | string | null, role: string): void => {
    const rg = r.range[name];
    const range = rg ? `(${fmt(rg[0])}..${fmt(rg[1])})` : '';
    let rel = '';
    if (role === 'peer') rel = `wafka ${fmtRatio(ratioOf(r, name))}`;
    if (role === 'limit' && typeof v === 'number' && r.wafka !== null) {
      const frac = r.higherIsBetter ? r.wafka / v : v / r.wafka;
      rel = `wafka at ${(frac * 100).toFixed(0)}% of this limit`;
    }
    lines.push(`  ${pad(name, 24)}${lpad(fmt(v), 9)}  ${pad(range, 22)}${rel}`);
  };
  row('wafka', r.wafka, 'wafka');
  for (const [k, v] of Object.entries(r.peers)) row(k, v, 'peer');
  for (const [k, v] of Object.entries(r.limits)) row(k, v, 'limit');
  if (r.goal) {
    lines.push(
      `  goal ≥ ${r.goal.ratio}× ${r.goal.peer}: ${fmtRatio(r.ratio)} → ${r.met === null ? 'not measured' : r.met ? 'MET' : 'NOT MET'}`,
    );
  }
  if (r.extra) lines.push(`  ${JSON.stringify(r.extra)}`);
  return lines.join('\n');
}

export function suiteTable(s: SuiteResult): string {
  const head = `== ${s.suite} — ${s.machine.runtime}, ${s.machine.cpu}, ${s.machine.cores} cores — ${s.date}`;
  return [head, ...s.results.map(caseTable)].join('\n\n');
}

/** One line per metric: wafka, the goal peer, the ratio, met or not. */
export function summaryTable(s: SuiteResult): string {
  const rows: string[][] = [['metric', 'unit', 'wafka', 'goal peer', 'ratio', 'goal', 'met?']];
  for (const r of s.results) {
    const gp = r.goal?.peer;
    const gv = gp ? (r.peers[gp] ?? r.limits[gp]) : undefined;
    rows.push([
      r.metric,
      r.unit,
      fmt(r.wafka),
      gp ? `${gp} ${fmt(gv as number | undefined)}` : '—',
      r.goal ? fmtRatio(r.ratio) : '—',
      r.goal ? `≥ ${r.goal.ratio}×` : '—',
      r.goal ? (r.met === null || r.met === undefined ? 'n/a' : r.met ? 'yes' : 'NO') : '—',
    ]);
  }
  const w = rows[0].map((_, i) => Math.max(...rows.map((r) => r[i].length)));
  const head = `== ${s.suite} — ${s.machine.runtime}, ${s.machine.cpu}, ${s.machine.cores} cores — ${s.date}`;
  return [head, ...rows.map((r) => r.map((c, i) => (i >= 2 ? lpad(c, w[i]) : pad(c, w[i]))).join('  '))].join('\n');
}
