/**
 * The storage suite's cases, runtime-agnostic: a log (wafka's PartitionLog on
 * some backend) against the raw write/read pattern of the same sizes on the
 * same platform API, in the same run. Each sample opens a fresh file/log
 * (untimed), appends a fixed volume (timed), then closes and removes it.
 */
import { runCase, type Case, type CaseResult, type Contender, type MeasureOptions, type Role } from '../lib/measure.ts';
import { caseTable } from '../lib/report.ts';
import { MB } from '../lib/data.ts';

export interface Appender {
  append(batch: Uint8Array): unknown;
  close(): unknown;
}

export interface AppendStore {
  name: string;
  role: Role;
  note?: string;
  /** Caps the bytes appended per sample (slow peers: the rate is what counts). */
  sampleBytes?: number;
  open(id: string): Promise<Appender>;
  remove(id: string): Promise<void>;
}

export interface Reader {
  /** Reads the whole log front to back in steps of about maxBytes; returns bytes read. */
  readAll(maxBytes: number): Promise<number>;
  close(): unknown;
}

export interface ReadStore {
  name: string;
  role: Role;
  note?: string;
  /** Writes `batches` (untimed), returns a reader over them. */
  prepare(id: string, batches: Uint8Array[]): Promise<Reader>;
  remove(id: string): Promise<void>;
}

const now = (): number => performance.now();
let seq = 0;

export interface AppendWorkload {
  label: string;
  batches: Uint8Array[];
  records: number;
  bytes: number;
}

/** Repeats the batches until about `total` bytes (a sample's volume). */
export function workload(label: string, batches: Uint8Array[], recordsPerBatch: number[], total: number): AppendWorkload {
  const out: Uint8Array[] = [];
  let bytes = 0;
  let records = 0;
  for (let i = 0; bytes < total; i++) {
    const b = batches[i % batches.length];
    out.push(b);
    bytes += b.length;
    records += recordsPerBatch[i % batches.length];
  }
  return { label, batches: out, records, bytes };
}

/**
 * One append measurement reported twice: MB/s and records/s (same samples).
 * `unitWork` picks which.
 */
export function appendCase(
  metric: string,
  stores: AppendStore[],
  w: AppendWorkload,
  unit: 'MB/s' | 'records/s' | 'events/s',
  extra: Partial<Case> = {},
): Case {
  const contenders: Contender[] = stores.map((s) => {
    let batches = w.batches;
    let work = unit === 'MB/s' ? MB(w.bytes) : w.records;
    if (s.sampleBytes && s.sampleBytes < w.bytes) {
      const k = Math.max(1, Math.round((w.batches.length * s.sampleBytes) / w.bytes));
      batches = w.batches.slice(0, k);
      work = (work * k) / w.batches.length;
    }
    return {
    name: s.name,
    role: s.role,
    note: s.note,
    sample: async () => {
      const id = `bench-${s.name}-${++seq}`;
      const a = await s.open(id);
      const t0 = now();
      for (const b of batches) {
        const r = a.append(b);
        if (r && typeof (r as Promise<unknown>).then === 'function') await r;
      }
      const ms = now() - t0;
      await a.close();
      await s.remove(id);
      return work / (ms / 1000);
    },
    };
  });
  return {
    metric,
    unit,
    higherIsBetter: true,
    contenders,
    warmupMs: 1000,
    ...extra,
    note: `${extra.note ? `${extra.note}; ` : ''}${(w.bytes / 2 ** 20).toFixed(0)} MiB per sample in ${w.batches.length} batches of ${w.label} (${w.records} records of 100 B values; slow peers append fewer per sample), fresh log/file per sample`,
  };
}

export function readCase(metric: string, stores: ReadStore[], batches: Uint8Array[], maxBytes: number, extra: Partial<Case> = {}): Case {
  const bytes = batches.reduce((n, b) => n + b.length, 0);
  const readers = new Map<string, { id: string; r: Reader }>();
  const contenders: Contender[] = stores.map((s) => ({
    name: s.name,
    role: s.role,
    note: s.note,
    setup: async () => {
      const id = `bench-read-${s.name}-${++seq}`;
      readers.set(s.name, { id, r: await s.prepare(id, batches) });
    },
    sample: async () => {
      const { r } = readers.get(s.name)!;
      const t0 = now();
      const n = await r.readAll(maxBytes);
      const ms = now() - t0;
      if (n < bytes * 0.99) throw new Error(`${s.name}: read ${n} of ${bytes} bytes`);
      return MB(n) / (ms / 1000);
    },
    teardown: async () => {
      const x = readers.get(s.name);
      if (x) {
        await x.r.close();
        await s.remove(x.id);
      }
    },
  }));
  return {
    metric,
    unit: 'MB/s',
    higherIsBetter: true,
    contenders,
    warmupMs: 1000,
    note: `warm sequential read of a ${(bytes / 2 ** 20).toFixed(0)} MiB log from its first offset, about ${(maxBytes / 1024).toFixed(0)} KiB per read`,
    ...extra,
  };
}

/** Runs cases one by one, printing each table and keeping the results in order. */
export function caseCollector(opts: Partial<MeasureOptions>, log: (s: string) => void): {
  results: CaseResult[];
  measure(c: Case): Promise<CaseResult>;
} {
  const results: CaseResult[] = [];
  return {
    results,
    async measure(c) {
      const r = await runCase(c, opts);
      log(caseTable(r));
      results.push(r);
      return r;
    },
  };
}
