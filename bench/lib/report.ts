/** Formatting of results: the console table (runtime-agnostic). */
import { evalGoal, goalText, ratioOf, type CaseResult, type Goal } from './measure.ts';

export interface Machine { cpu: string; cores: number; runtime: string; load1?: number }

export interface SuiteResult {
  suite: string;
  date: string;
  /** The commit measured (bench/run.ts --snapshot measures HEAD exactly; '+dirty': the working tree had other changes). */
  commit?: string;
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
      const frac = ratioOf(r, name) ?? (r.higherIsBetter ? r.wafka / v : v / r.wafka);
      rel = `wafka at ${(frac * 100).toFixed(0)}% of this limit`;
    }
    lines.push(`  ${pad(name, 24)}${lpad(fmt(v), 9)}  ${pad(range, 22)}${rel}`);
  };
  row('wafka', r.wafka, 'wafka');
  for (const [k, v] of Object.entries(r.peers)) row(k, v, 'peer');
  for (const [k, v] of Object.entries(r.limits)) row(k, v, 'limit');
  for (const g of goalsOf(r)) {
    const o = evalGoal(r, g);
    lines.push(`  goal ${goalText(g, r.unit, r.higherIsBetter)}: ${fmtRatio(o.ratio)} → ${o.met === null ? 'not measured' : o.met ? 'MET' : 'NOT MET'}`);
  }
  if (r.extra) lines.push(`  ${JSON.stringify(r.extra)}`);
  return lines.join('\n');
}

export function suiteTable(s: SuiteResult): string {
  const head = `== ${s.suite} — ${s.machine.runtime}, ${s.machine.cpu}, ${s.machine.cores} cores — ${s.date}`;
  return [head, ...s.results.map(caseTable)].join('\n\n');
}

export function goalsOf(r: CaseResult): Goal[] {
  return r.goals ? r.goals.map((o) => o.goal) : r.goal ? [r.goal] : [];
}

export function metText(met: boolean | null | undefined): string {
  return met === null || met === undefined ? 'not measured' : met ? 'yes' : 'NO';
}

/** One line per metric: wafka, the goal peer, the ratio, met or not. */
export function summaryTable(s: SuiteResult): string {
  const rows: string[][] = [['metric', 'unit', 'wafka', 'vs', 'ratio', 'goal', 'met?']];
  for (const r of s.results) {
    const gs = goalsOf(r);
    if (!gs.length) {
      rows.push([r.metric, r.unit, fmt(r.wafka), '—', '—', '—', '—']);
      continue;
    }
    gs.forEach((g, i) => {
      const o = evalGoal(r, g);
      const vs = 'value' in g ? 'target' : `${g.peer} ${fmt((r.peers[g.peer] ?? r.limits[g.peer]) as number | undefined)}`;
      rows.push([i ? '' : r.metric, i ? '' : r.unit, i ? '' : fmt(r.wafka), vs, fmtRatio(o.ratio), goalText(g, r.unit, r.higherIsBetter), metText(o.met)]);
    });
  }
  const w = rows[0].map((_, i) => Math.max(...rows.map((r) => r[i].length)));
  const head = `== ${s.suite} — ${s.machine.runtime}, ${s.machine.cpu}, ${s.machine.cores} cores — ${s.date}`;
  return [head, ...rows.map((r) => r.map((c, i) => (i >= 2 ? lpad(c, w[i]) : pad(c, w[i]))).join('  '))].join('\n');
}
