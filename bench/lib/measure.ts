/**
 * The measuring loop, runtime-agnostic (Node, a page, a dedicated worker).
 *
 * A case has one `wafka` contender, its peers and optional physical limits.
 * Each contender is warmed up and calibrated (ops per sample so one sample
 * lasts about `sampleMs`), then all contenders run interleaved rounds
 * (A B C, C B A, A B C, ...) so that drift on a shared machine hits all of
 * them. Reported: the median and the min..max of the rounds.
 */

export type Role = 'wafka' | 'peer' | 'limit';

export interface Contender {
  name: string;
  role: Role;
  /** One operation of `work` units (sync or async). */
  op?: () => unknown;
  /** Or a whole sample: returns the measured value in the case's unit. */
  sample?: () => number | Promise<number>;
  /** Runs once before warm-up (e.g. open a file, check the output is right). */
  setup?: () => unknown;
  teardown?: () => unknown;
  /** Units of work per op when it differs from the case's `work`. */
  work?: number;
  /** What this contender is, in one line: the path used, the fairness caveats. */
  note?: string;
}

export interface Case {
  metric: string;
  unit: string;
  higherIsBetter: boolean;
  /** Units of `unit`·s per op for throughput contenders (e.g. MB per op). */
  work?: number;
  contenders: Contender[];
  goal?: { peer: string; ratio: number };
  note?: string;
  rounds?: number;
  sampleMs?: number;
  warmupMs?: number;
  /** Extra figures worth recording alongside (e.g. compression ratios). */
  extra?: Record<string, unknown>;
}

export interface Stat { median: number; min: number; max: number; samples: number[] }

export interface CaseResult {
  metric: string;
  unit: string;
  higherIsBetter: boolean;
  wafka: number | null;
  peers: Record<string, number>;
  limits: Record<string, number | string>;
  goal?: { peer: string; ratio: number };
  /** wafka vs the goal peer, oriented so that > 1 is better for wafka. */
  ratio?: number | null;
  met?: boolean | null;
  /** min..max over the rounds, per contender. */
  range: Record<string, [number, number]>;
  notes?: Record<string, string>;
  extra?: Record<string, unknown>;
}

export interface MeasureOptions {
  rounds: number;
  sampleMs: number;
  warmupMs: number;
  log?: (line: string) => void;
}

export const DEFAULTS: MeasureOptions = { rounds: 7, sampleMs: 80, warmupMs: 150 };

const now = (): number => performance.now();

function isThenable(v: unknown): v is PromiseLike<unknown> {
  return !!v && typeof (v as { then?: unknown }).then === 'function';
}

export function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

export function stat(samples: number[]): Stat {
  return { median: median(samples), min: Math.min(...samples), max: Math.max(...samples), samples };
}

/** Percentile (nearest rank) of unsorted values. */
export function percentile(xs: number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b);
  const i = Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1));
  return s[i];
}

/** Runs `op` n times; returns elapsed ms. Awaits only if the op is async. */
async function timeOps(op: () => unknown, n: number, async: boolean): Promise<number> {
  const t0 = now();
  if (async) for (let i = 0; i < n; i++) await op();
  else for (let i = 0; i < n; i++) op();
  return now() - t0;
}

interface Prepared {
  c: Contender;
  sample: () => Promise<number>;
}

async function prepare(c: Contender, cs: Case, o: MeasureOptions): Promise<Prepared> {
  if (c.setup) await c.setup();
  if (c.sample) {
    const fn = c.sample;
    const t0 = now();
    do await fn(); while (now() - t0 < o.warmupMs && now() - t0 < 2000);
    return { c, sample: async () => fn() };
  }
  const op = c.op;
  if (!op) throw new Error(`${cs.metric}/${c.name}: neither op nor sample`);
  const work = c.work ?? cs.work;
  if (work === undefined) throw new Error(`${cs.metric}/${c.name}: no work per op`);
  const first = op();
  const async = isThenable(first);
  if (async) await first;
  // Warm-up and calibration: double n until a batch of ops lasts long enough.
  let n = 1;
  let elapsed = 0;
  const t0 = now();
  while (now() - t0 < o.warmupMs) {
    elapsed = await timeOps(op, n, async);
    if (elapsed < o.sampleMs / 4) n *= 2;
  }
  const perOp = Math.max(elapsed / n, 1e-6);
  const ops = Math.max(1, Math.round(o.sampleMs / perOp));
  return {
    c,
    sample: async () => {
      const ms = await timeOps(op, ops, async);
      return (work * ops) / (ms / 1000);
    },
  };
}

/** Measures one case: warm-up, then interleaved rounds. */
export async function runCase(cs: Case, opts: Partial<MeasureOptions> = {}): Promise<CaseResult> {
  const o: MeasureOptions = {
    ...DEFAULTS,
    ...opts,
    ...(cs.rounds ? { rounds: cs.rounds } : {}),
    ...(cs.sampleMs ? { sampleMs: cs.sampleMs } : {}),
    ...(cs.warmupMs ? { warmupMs: cs.warmupMs } : {}),
  };
  const prepared: Prepared[] = [];
  for (const c of cs.contenders) prepared.push(await prepare(c, cs, o));
  const samples = new Map<string, number[]>(prepared.map((p) => [p.c.name, []]));
  for (let r = 0; r < o.rounds; r++) {
    const order = r % 2 === 0 ? prepared : [...prepared].reverse();
    for (const p of order) samples.get(p.c.name)!.push(await p.sample());
  }
  for (const c of cs.contenders) if (c.teardown) await c.teardown();
  return summarize(cs, samples);
}

export function summarize(cs: Case, samples: Map<string, number[]>): CaseResult {
  const res: CaseResult = {
    metric: cs.metric,
    unit: cs.unit,
    higherIsBetter: cs.higherIsBetter,
    wafka: null,
    peers: {},
    limits: {},
    range: {},
  };
  const notes: Record<string, string> = {};
  if (cs.note) notes['*'] = cs.note;
  for (const c of cs.contenders) {
    const xs = samples.get(c.name);
    if (!xs || xs.length === 0) continue;
    const s = stat(xs);
    const m = round(s.median);
    if (c.role === 'wafka') res.wafka = m;
    else if (c.role === 'peer') res.peers[c.name] = m;
    else res.limits[c.name] = m;
    res.range[c.name] = [round(s.min), round(s.max)];
    if (c.note) notes[c.name] = c.note;
  }
  if (cs.goal) {
    res.goal = cs.goal;
    res.ratio = ratioOf(res, cs.goal.peer);
    res.met = res.ratio === null ? null : res.ratio >= cs.goal.ratio;
  }
  if (Object.keys(notes).length) res.notes = notes;
  if (cs.extra) res.extra = cs.extra;
  return res;
}

/** wafka against a peer or limit, oriented so that > 1 means wafka is better. */
export function ratioOf(r: Pick<CaseResult, 'wafka' | 'peers' | 'limits' | 'higherIsBetter'>, name: string): number | null {
  const other = r.peers[name] ?? r.limits[name];
  if (r.wafka === null || typeof other !== 'number' || other === 0 || r.wafka === 0) return null;
  const x = r.higherIsBetter ? r.wafka / other : other / r.wafka;
  return Math.round(x * 1000) / 1000;
}

/** Three significant digits, integers kept whole. */
export function round(x: number): number {
  if (!isFinite(x)) return x;
  const a = Math.abs(x);
  if (a >= 1000) return Math.round(x);
  if (a === 0) return 0;
  const d = 3 - Math.ceil(Math.log10(a));
  const f = 10 ** Math.max(0, d);
  return Math.round(x * f) / f;
}
