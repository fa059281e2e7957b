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

/** wafka ≥ ratio × peer (oriented by higherIsBetter), or an absolute target value in the case's unit. */
export type Goal = { peer: string; ratio: number } | { value: number };

export interface GoalOutcome { goal: Goal; ratio: number | null; met: boolean | null }

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
  goal?: Goal;
  /** Further goals on the same figure (all must be met). */
  goals?: Goal[];
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
  goal?: Goal;
  /** wafka vs the goal (peer or absolute target), oriented so that > 1 is better for wafka. */
  ratio?: number | null;
  met?: boolean | null;
  /** Every goal with its outcome, when there is more than one. */
  goals?: GoalOutcome[];
  /** min..max over the rounds, per contender. */
  range: Record<string, [number, number]>;
  /**
   * wafka vs each peer and limit: the median of the per-round ratios (wafka and
   * the other ran back to back in each round, so drift on a shared machine
   * mostly cancels). Oriented so that > 1 means wafka is better.
   */
  ratios?: Record<string, number>;
  notes?: Record<string, string>;
  extra?: Record<string, unknown>;
}

export interface MeasureOptions {
  rounds: number;
  sampleMs: number;
  /** Minimum warm-up per contender. */
  warmupMs: number;
  /** Longest warm-up per contender while its rate still improves (default 4 s). */
  maxWarmupMs?: number;
  log?: (line: string) => void;
}

export const DEFAULTS: MeasureOptions = { rounds: 9, sampleMs: 100, warmupMs: 200 };

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
  // Warm-up and calibration: double n until a batch of ops lasts about sampleMs/4, then keep
  // running batches until the rate stops improving (JIT and Wasm tier-up done: Chromium's
  // dynamic tiering can keep a hot Wasm function in its baseline tier for seconds on a busy
  // machine). At least warmupMs; at most maxWarmupMs; stable = no gain over 3% for
  // max(warmupMs, 300 ms).
  let n = 1;
  let elapsed = 0;
  let best = 0;
  const t0 = now();
  let improved = t0;
  const settle = Math.max(o.warmupMs, 300);
  for (;;) {
    elapsed = await timeOps(op, n, async);
    const t = now();
    if (elapsed < o.sampleMs / 4) {
      n *= 2;
      improved = t;
    } else {
      const rate = n / elapsed;
      if (rate > best * 1.03) {
        best = rate;
        improved = t;
      }
    }
    if (t - t0 >= (o.maxWarmupMs ?? 4000)) break;
    if (t - t0 >= o.warmupMs && t - improved >= settle) break;
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
  const wName = cs.contenders.find((c) => c.role === 'wafka')?.name;
  const ws = wName ? samples.get(wName) : undefined;
  if (ws?.length) {
    const ratios: Record<string, number> = {};
    for (const c of cs.contenders) {
      const xs = samples.get(c.name);
      if (c.role === 'wafka' || !xs || xs.length !== ws.length) continue;
      const per = ws.map((w, i) => (cs.higherIsBetter ? w / xs[i] : xs[i] / w)).filter((x) => isFinite(x) && x > 0);
      if (per.length) ratios[c.name] = Math.round(median(per) * 1000) / 1000;
    }
    if (Object.keys(ratios).length) res.ratios = ratios;
  }
  const all = [...(cs.goal ? [cs.goal] : []), ...(cs.goals ?? [])];
  if (all.length) {
    const outs = all.map((g) => evalGoal(res, g));
    res.goal = all[0];
    res.ratio = outs[0].ratio;
    res.met = outs.some((o) => o.met === false) ? false : outs.some((o) => o.met === null) ? null : true;
    if (outs.length > 1) res.goals = outs;
  }
  if (Object.keys(notes).length) res.notes = notes;
  if (cs.extra) res.extra = cs.extra;
  return res;
}

export function evalGoal(r: Pick<CaseResult, 'wafka' | 'peers' | 'limits' | 'higherIsBetter' | 'ratios'>, g: Goal): GoalOutcome {
  if ('value' in g) {
    if (r.wafka === null || r.wafka === 0) return { goal: g, ratio: null, met: null };
    const x = r.higherIsBetter ? r.wafka / g.value : g.value / r.wafka;
    const ratio = Math.round(x * 1000) / 1000;
    return { goal: g, ratio, met: x >= 1 };
  }
  const ratio = ratioOf(r, g.peer);
  return { goal: g, ratio, met: ratio === null ? null : ratio >= g.ratio };
}

export function goalText(g: Goal, unit: string, higherIsBetter = true): string {
  return 'value' in g ? `${higherIsBetter ? '≥' : '≤'} ${g.value} ${unit}` : `≥ ${g.ratio}× ${g.peer}`;
}

/** wafka against a peer or limit, oriented so that > 1 means wafka is better. */
export function ratioOf(r: Pick<CaseResult, 'wafka' | 'peers' | 'limits' | 'higherIsBetter' | 'ratios'>, name: string): number | null {
  const paired = r.ratios?.[name];
  if (paired !== undefined) return paired;
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

/**
 * The same samples in another unit (e.g. MB/s → records/s): every value times
 * `factor`. Ratios between contenders are unchanged; goals are re-evaluated.
 */
export function scaleResult(r: CaseResult, metric: string, unit: string, factor: number, goals: Goal[] = []): CaseResult {
  const sc = (x: number): number => round(x * factor);
  const out: CaseResult = {
    ...r,
    metric,
    unit,
    wafka: r.wafka === null ? null : sc(r.wafka),
    peers: Object.fromEntries(Object.entries(r.peers).map(([k, v]) => [k, sc(v)])),
    limits: Object.fromEntries(Object.entries(r.limits).map(([k, v]) => [k, typeof v === 'number' ? sc(v) : v])),
    range: Object.fromEntries(Object.entries(r.range).map(([k, [a, b]]) => [k, [sc(a), sc(b)] as [number, number]])),
  };
  delete out.goal;
  delete out.goals;
  delete out.ratio;
  delete out.met;
  if (goals.length) {
    const outs = goals.map((g) => evalGoal(out, g));
    out.goal = goals[0];
    out.ratio = outs[0].ratio;
    out.met = outs.some((o) => o.met === false) ? false : outs.some((o) => o.met === null) ? null : true;
    if (outs.length > 1) out.goals = outs;
  }
  return out;
}
